"""The fake's operations, named after the API's (``create_task``, ``get_task``) and the
control API's (``force``, ``put_keys``, ``advance``, ``reset``).

The store is the source of truth: every process sharing it is one fake. ``Fake`` keeps a
process's caches (tasks being polled, keys, the rule book, the clock) and refreshes them
when the store's change signal says another process wrote (``sync``), so a poll is a dict
lookup and never a round trip (docs/ARCHITECTURE.md). It imports no web framework:
``api/`` parses HTTP, calls these methods and renders what they return.
"""

from __future__ import annotations

import asyncio
import random
import re
import secrets
import string
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import orjson

from contracts import facts
from mock_server.delivery.attempt import Sender
from mock_server.delivery.outbox import Outbox
from mock_server.domain import billing, lifecycle, scenarios, validation
from mock_server.domain.catalog import TIMING_PROFILES
from mock_server.domain.errors import ApiError, invalid_task_id, task_not_found
from mock_server.domain.keys import KeyInfo
from mock_server.domain.lifecycle import Observation
from mock_server.domain.models import Plan, ReferenceInfo, Task
from mock_server.domain.scenarios import CREATE_PATH, Facts, Scenarios
from mock_server.domain.taskview import task_object
from mock_server.media.clips import ClipSpec
from mock_server.media.references import Media
from mock_server.media.uploads import Uploads
from mock_server.runtime.clock import Clock, VirtualClock, make_clock, wall_time
from mock_server.runtime.config import Config
from mock_server.runtime.journal import Entry, Journal, Row
from mock_server.runtime.scheduler import Scheduler
from mock_server.service.cache import PollTimes, TaskCache
from mock_server.service.rulebook import RuleBook
from mock_server.service.settling import SETTLE, SettleWindow
from mock_server.service.steering import Steering
from mock_server.store.open import open_store
from mock_server.store.protocols import Store

TASK_ID_RE = re.compile(r"task-unified-\d{1,12}-[a-z0-9]{8}")
_ID_ALPHABET = string.ascii_lowercase + string.digits


def _http_sender(config: Config) -> Sender:
    """The callback sender, imported when the first attempt is due: httpx and a TLS
    context cost a fake that never calls back nothing."""
    from mock_server.delivery.sender import HttpSender

    return HttpSender(config)


def fresh_seed() -> int:
    """A seed for a start without ``--seed``: printed, so the run can be reproduced."""
    return secrets.randbelow(2**31)


@dataclass
class Fake(Steering):
    """One fake EvoLink account service, as one process sees the shared store."""

    config: Config
    store: Store = field(init=False)
    clock: Clock = field(init=False)
    scheduler: Scheduler = field(init=False)
    tasks: TaskCache = field(init=False)
    keys: dict[str, KeyInfo] = field(init=False, default_factory=dict)
    reference_probe: Callable[[str], ReferenceInfo | Decimal | None] = field(init=False)
    media: Media = field(init=False)
    rules: RuleBook = field(init=False)
    journal: Journal = field(init=False)
    last_poll: PollTimes = field(init=False)
    settling: SettleWindow = field(init=False)
    stepped: bool = field(init=False, default=False)
    latency_rng: random.Random = field(init=False)
    outbox: Outbox = field(init=False)
    seed: int = field(init=False, default=0)
    _clock_start: float = field(init=False, default=0.0)
    _secret: bytes = field(init=False, default=b"")
    _rev: int = field(init=False, default=0)
    _epoch: int = field(init=False, default=0)
    _keys_rev: int = field(init=False, default=0)

    def __post_init__(self) -> None:
        self.store = open_store(self.config.db)
        state = self.store.init_state(
            clock_start=float(int(wall_time())),
            seed=self.config.seed if self.config.seed is not None else fresh_seed(),
            secret=secrets.token_hex(16),
        )
        if self.config.seed is not None and state.seed != self.config.seed:
            self.store.set_seed(self.config.seed)
        self.seed = self.config.seed if self.config.seed is not None else int(state.seed or 0)
        self._clock_start = float(state.clock_start or 0.0)
        self._secret = bytes.fromhex(state.secret or "")
        self.clock = make_clock(
            self.config.clock,
            time_scale=self.config.time_scale,
            step=self.config.step,
            start=state.clock_now if state.clock_now is not None else self._clock_start,
        )
        self.stepped = self.clock.mode == "stepped"
        self.scheduler = Scheduler(self.clock)
        self.scheduler.on(SETTLE, self._settle)
        self.settling = SettleWindow(self.store, self.scheduler)
        self.outbox = Outbox(
            self.config,
            self.store,
            self.clock,
            self.scheduler,
            sender_factory=lambda: _http_sender(self.config),
        )
        self.media = Media(self.config, self.store, self.clock)
        self.reference_probe = self.media.reference
        self.tasks = TaskCache(self.config.cache_tasks)
        self.last_poll = PollTimes(self.config.cache_tasks)
        self.rules = RuleBook(self.store)
        self.journal = Journal(self._write_journal)
        self.latency_rng = random.Random(f"latency:{self.seed}")
        self._load()
        if self.config.scenarios and self.store.mark_scenarios_loaded():
            self.rules.load_file(self.config.scenarios)
        self._install_config_keys()

    @property
    def scenarios(self) -> Scenarios:
        return self.rules.book

    def _write_journal(self, rows: Sequence[Row]) -> None:
        self.store.append_journal(rows, self.config.journal_limit)

    # -- the caches, and keeping them true ------------------------------------------------

    def _load(self) -> None:
        """Fill the caches from the store (at start, and after another process's reset)."""
        state = self.store.state()
        self._rev, self._epoch, self._keys_rev = state.rev, state.epoch, state.keys_rev
        self.tasks.clear()
        self.scheduler.clear()
        self.outbox.reset()
        self.keys = {k: KeyInfo.from_json(v) for k, v in self.store.keys().items()}
        self.rules.reload(state.scenarios_rev)
        if state.clock_now is not None and isinstance(self.clock, VirtualClock):
            self.clock.reset(state.clock_now)
        self.settling.load()
        self.outbox.resume()

    def _adopt(self, task: Task) -> None:
        self.tasks.put(task)
        if not task.settled:
            self.settling.admit(task.id, task.plan.finish)

    def _wrote(self, rev: int) -> None:
        """This process made change ``rev``: nothing to pull if it is the next one."""
        if rev == self._rev + 1:
            self._rev = rev

    def sync(self) -> None:
        """Catch up with what other processes wrote, if anything (a memory compare when
        nothing was: the poll path pays for it on every request)."""
        signal = self.store.signal
        if not signal.changed():
            return
        seen = signal.snapshot()
        state = self.store.state()
        if state.epoch != self._epoch:
            self._load()
            self.journal.pending.clear()
            self.last_poll.clear()
        elif state.rev != self._rev:
            for task in self.store.tasks_since(self._rev):
                if task.settled:
                    self.tasks.refresh(task)
                else:
                    self._adopt(task)
            for delivery in self.outbox.store.callbacks_since(self._rev):
                if delivery.next_due is not None:
                    self.outbox.schedule(delivery.task_id, delivery.next_due)
            if state.keys_rev != self._keys_rev:
                self.keys = {k: KeyInfo.from_json(v) for k, v in self.store.keys().items()}
                self._keys_rev = state.keys_rev
            self.rules.reload(state.scenarios_rev)
            self._rev = state.rev
        if state.clock_now is not None and self.clock.can_advance():
            self.clock.set(state.clock_now)
        signal.seen(seen)

    def _install_config_keys(self) -> None:
        missing = {k: v for k, v in self.config.keys.items() if k not in self.keys}
        if missing:
            self.put_keys({k: {"credits": str(v)} for k, v in missing.items()})

    @property
    def base_url(self) -> str:
        return self.config.base_url

    def now(self) -> float:
        return self.clock.now()

    @property
    def result_secret(self) -> bytes:
        """The key that signs result links (``domain/taskview.result_signature``)."""
        return self._secret

    # -- the public API -------------------------------------------------------------

    def authenticate(
        self, authorization: str | None, message: str = facts.CREATE_AUTH_MESSAGE
    ) -> str:
        scheme, _, key = (authorization or "").strip().partition(" ")
        key = key.strip()
        if scheme.lower() != "bearer" or key not in self.keys:
            raise ApiError(401, message)
        return key

    def create_task(self, key: str, body: object) -> Task:
        info = self.keys[key]
        request = validation.parse_create(
            body,
            allowed_callback_hosts=frozenset(self.config.allow_callback_host),
            forbidden_models=info.forbidden(self.config.models),
        )
        model = self.config.models[request.model]
        probes = [ReferenceInfo.of(self.reference_probe(url)) for url in request.video_urls]
        references = tuple(p.seconds or self.config.reference_seconds for p in probes)
        billed_input = billing.input_seconds(references)
        reserve = billing.request_cost(model, request, billed_input)

        now = self.clock.now()
        self.scheduler.run_due_sync(now)
        # The number comes from the store, so no two processes sharing it draw alike.
        rng = random.Random(f"{self.seed}:{self.store.next_task_number()}")
        task_id = self._new_task_id(int(now), rng)
        timing = TIMING_PROFILES[self.config.profile]
        estimate = lifecycle.estimated_seconds(model, request.quality, request.duration, timing)
        plan = lifecycle.draw_plan(rng, now, estimate, timing)
        problem = next((p.problem for p in probes if p.problem), None)
        if problem is not None:  # a bad reference fails when work starts (SOURCES.md "Media")
            plan = plan.ended_at(plan.start, "failed", *problem, "reference", 0)
        else:
            plan = self._shape(
                plan, rng, Facts("POST", CREATE_PATH, key, request.model, request.prompt)
            )
        task = Task(
            id=task_id,
            key=key,
            request=request,
            plan=plan,
            reserved=reserve,
            input_seconds=billed_input,
            reference_seconds=references,
            estimated_time=lifecycle.estimated_time(estimate),
            user_group=info.user_group,
        )
        stored = self.store.insert_task(task, billing.reservation(key, task_id, reserve, now))
        if stored is None:
            raise billing.insufficient_credits()
        self._wrote(stored.rev)
        self._adopt(stored)
        if "[wanmock:" in request.prompt:
            self.scenarios.poll_rules(request.prompt, key, stored.id)
        return stored

    def _shape(self, plan: Plan, rng: random.Random, facts: Facts) -> Plan:
        """A scenario rule's effect on the plan, else the seeded random failure rate."""
        effect = self.scenarios.task_effect(facts)
        if effect is not None:
            return scenarios.shape_plan(plan, effect)
        if self.config.failure_rate and rng.random() < self.config.failure_rate:
            return scenarios.shape_plan(plan, scenarios.random_failure(rng))
        return plan

    def _new_task_id(self, created: int, rng: random.Random) -> str:
        suffix = "".join(rng.choice(_ID_ALPHABET) for _ in range(8))
        return f"task-unified-{created}-{suffix}"

    def find_task(self, task_id: str) -> Task | None:
        """A task from the cache, else read through from the store (and cached)."""
        task = self.tasks.get(task_id)
        if task is None and TASK_ID_RE.fullmatch(task_id):
            task = self.store.get_task(task_id)
            if task is not None:
                self.tasks.put(task)
        return task

    def get_task(self, key: str, task_id: str) -> Task:
        task = self.tasks.get(task_id)  # stored ids are well formed: the regex only on a miss
        if task is None:
            if not TASK_ID_RE.fullmatch(task_id):
                raise invalid_task_id()
            task = self.find_task(task_id)
        if task is None or task.key != key:
            raise task_not_found()
        return task

    def observe(self, task: Task) -> Observation:
        return lifecycle.observe(task.plan, self.clock.now(), task.estimated_time)

    def task_body(self, task: Task) -> dict[str, Any]:
        return task_object(
            task,
            self.observe(task),
            self.config.models[task.request.model],
            self.base_url,
            self._secret,
        )

    def task_json(self, task: Task) -> bytes:
        """The poll's answer, re-encoded only when what it shows has moved."""
        seen = self.observe(task)
        cached = self.tasks.view(task.id)
        if cached is not None and cached[0] == seen:
            return cached[1]
        body = orjson.dumps(
            task_object(
                task, seen, self.config.models[task.request.model], self.base_url, self._secret
            )
        )
        self.tasks.keep_view(task.id, seen, body)
        return body

    # -- what the HTTP layer asks of the process --------------------------------------------

    @property
    def uploads(self) -> Uploads:
        """The file service's operations (media/uploads.py)."""
        return self.media.uploads

    async def prefetch_references(self, body: object) -> None:
        """``--fetch-references`` only: download and probe reference URLs not known yet."""
        await self.media.prefetch(body)

    async def result_file(self, spec: ClipSpec) -> Path:
        """The rendered result video of this size and length (rendered once, cached)."""
        return await self.media.renders.get(spec)

    def note_poll(self, path: str, at: float) -> float | None:
        """Seconds since the last poll of ``path`` (None for the first): for the journal's
        note on clients that poll too fast."""
        last = self.last_poll.seen(path, at)
        return None if last is None else at - last

    def record(self, entry: Entry) -> None:
        """Journal one request (written in a batch off the request path)."""
        self.journal.record(entry)

    async def housekeeping(self) -> None:
        """The background step: catch up with other processes, write the journal batch
        (in a worker thread: SQLite releases the GIL while it writes)."""
        self.sync()
        if self.journal.pending:
            await asyncio.to_thread(self.journal.flush)

    async def run_forever(self) -> None:
        """Real clock: make side effects happen when they are due."""
        await self.scheduler.run_forever()

    async def aclose(self) -> None:
        """Attempts in flight give their claims back; the journal is written; the store
        closes."""
        await self.outbox.aclose()
        self.journal.flush()
        self.store.close()

    def reset(self) -> None:
        """Forget everything but the configuration; a virtual clock goes back to its start.
        Every process sharing the store forgets too (its next ``sync``)."""
        self.media.reset()
        self.store.reset()
        self._load()
        self.journal.pending.clear()
        self.last_poll.clear()
        if self.config.scenarios and self.store.mark_scenarios_loaded():
            self.rules.load_file(self.config.scenarios)
        self._install_config_keys()
