"""The fake's domain operations, named after the API's (``create_task``, ``get_task``).

``Fake`` owns the in-memory view (tasks, ledger, keys), the store that makes it durable,
the clock and the scheduler. It imports no web framework: ``app.py`` and ``control.py``
parse HTTP, call these methods and render what they return.
"""

from __future__ import annotations

import random
import re
import secrets
import string
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import orjson

from mock_server.delivery.attempt import Sender
from mock_server.delivery.outbox import Outbox
from mock_server.domain import billing, lifecycle, scenarios, validation
from mock_server.domain.billing import Ledger
from mock_server.domain.catalog import TIMING_PROFILES
from mock_server.domain.errors import ApiError, invalid, invalid_task_id, task_not_found
from mock_server.domain.keys import KeyInfo, parse_key_spec
from mock_server.domain.lifecycle import Observation
from mock_server.domain.models import Outcome, Plan, ReferenceInfo, Task
from mock_server.domain.scenarios import CREATE_PATH, Facts, Scenarios, read_rules_file
from mock_server.domain.taskview import task_object
from mock_server.media.references import Media
from mock_server.runtime.clock import Clock, VirtualClock, make_clock, wall_time
from mock_server.runtime.config import Config
from mock_server.runtime.journal import Journal, Row
from mock_server.runtime.scheduler import Scheduler
from mock_server.store.sqlite import SqliteStore

TASK_ID_RE = re.compile(r"task-unified-\d{1,12}-[a-z0-9]{8}")
_ID_ALPHABET = string.ascii_lowercase + string.digits
AUTH_MESSAGE = "Invalid authentication credentials"


def _http_sender(config: Config) -> Sender:
    """The callback sender, imported when the first attempt is due: httpx and a TLS
    context cost a fake that never calls back nothing."""
    from mock_server.delivery.sender import HttpSender

    return HttpSender(config)


@dataclass
class Fake:
    """One fake EvoLink account service: everything a running server holds."""

    config: Config
    store: SqliteStore = field(init=False)
    clock: Clock = field(init=False)
    scheduler: Scheduler = field(init=False)
    ledger: Ledger = field(init=False)
    tasks: dict[str, Task] = field(init=False, default_factory=dict)
    keys: dict[str, KeyInfo] = field(init=False, default_factory=dict)
    reference_probe: Callable[[str], ReferenceInfo | Decimal | None] = field(init=False)
    media: Media = field(init=False)
    scenarios: Scenarios = field(init=False)
    journal: Journal = field(init=False)
    last_poll: dict[str, float] = field(init=False, default_factory=dict)
    stepped: bool = field(init=False, default=False)
    latency_rng: random.Random = field(init=False)
    outbox: Outbox = field(init=False)
    _views: dict[str, tuple[Observation, bytes]] = field(init=False, default_factory=dict)
    _clock_start: float = field(init=False, default=0.0)
    _secret: bytes = field(init=False, default=b"")

    def __post_init__(self) -> None:
        self.store = SqliteStore(self.config.db)
        snapshot = self.store.load()
        meta = snapshot.meta
        self._clock_start = float(meta.get("clock_start", int(wall_time())))
        self.clock = make_clock(
            self.config.clock,
            time_scale=self.config.time_scale,
            step=self.config.step,
            start=float(meta.get("clock_now", self._clock_start)),
        )
        self._secret = bytes.fromhex(meta.get("secret", secrets.token_hex(16)))
        self.stepped = self.clock.mode == "stepped"
        self.scheduler = Scheduler(self.clock)
        self.scheduler.on("settle", self._settle)
        self.outbox = Outbox(
            self.config,
            self.store,
            self.clock,
            self.scheduler,
            sender_factory=lambda: _http_sender(self.config),
        )
        self.media = Media(self.config, self.store, self.clock)
        self.reference_probe = self.media.reference
        self.ledger = Ledger(snapshot.ledger)
        self.keys = {k: KeyInfo.from_json(v) for k, v in snapshot.keys.items()}
        for task in snapshot.tasks:
            self._adopt(task)
            if self.clock.can_advance():
                self.clock.set(task.plan.created)
        self.outbox.resume()
        self.scenarios = Scenarios.restore(self.store.scenarios())
        self.journal = Journal(self._write_journal, self.store.max_journal_seq() + 1)
        self.latency_rng = random.Random(f"latency:{self.config.seed}")
        if "scenarios_loaded" not in meta:
            self.load_scenario_file()
        self.store.set_meta(
            clock_start=str(self._clock_start), secret=self._secret.hex(), scenarios_loaded="1"
        )
        self._install_config_keys()

    def _write_journal(self, rows: Sequence[Row]) -> None:
        self.store.append_journal(rows, self.config.journal_limit)

    # -- set-up ---------------------------------------------------------------------

    def _adopt(self, task: Task) -> None:
        self.tasks[task.id] = task
        if not task.settled:
            self.scheduler.add(task.plan.finish, "settle", task.id)

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
        """The key that signs result links (``render.result_signature``)."""
        return self._secret

    # -- the public API -------------------------------------------------------------

    def authenticate(self, authorization: str | None, message: str = AUTH_MESSAGE) -> str:
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
        rng = random.Random(f"{self.config.seed}:{len(self.tasks)}")
        task_id = self._new_task_id(int(now), rng)
        entry = self.ledger.reserve(key, task_id, reserve, now)
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
        self.store.insert_task(task, [entry])
        self.ledger.apply([entry])
        self._adopt(task)
        if "[wanmock:" in request.prompt:
            self.scenarios.poll_rules(request.prompt, key, task.id)
            self.save_scenarios()
        return task

    def _shape(self, plan: Plan, rng: random.Random, facts: Facts) -> Plan:
        """A scenario rule's effect on the plan, else the seeded random failure rate."""
        effect = self.scenarios.task_effect(facts)
        if effect is not None:
            self.save_scenarios()
            return scenarios.shape_plan(plan, effect)
        if self.config.failure_rate and rng.random() < self.config.failure_rate:
            return scenarios.shape_plan(plan, scenarios.random_failure(rng))
        return plan

    def save_scenarios(self) -> None:
        self.store.put_scenarios(self.scenarios.to_json())

    def load_scenario_file(self) -> None:
        """``--scenarios FILE`` rules, part of the configuration: loaded at first start and
        again after each reset."""
        if self.config.scenarios:
            scenarios.load_rules(read_rules_file(self.config.scenarios), self.scenarios, "file")
            self.save_scenarios()

    def _new_task_id(self, created: int, rng: random.Random) -> str:
        while True:
            suffix = "".join(rng.choice(_ID_ALPHABET) for _ in range(8))
            task_id = f"task-unified-{created}-{suffix}"
            if task_id not in self.tasks:
                return task_id

    def get_task(self, key: str, task_id: str) -> Task:
        task = self.tasks.get(task_id)  # stored ids are well formed: the regex only on a miss
        if task is None and not TASK_ID_RE.fullmatch(task_id):
            raise invalid_task_id()
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
        cached = self._views.get(task.id)
        if cached is not None and cached[0] == seen:
            return cached[1]
        body = orjson.dumps(
            task_object(
                task, seen, self.config.models[task.request.model], self.base_url, self._secret
            )
        )
        self._views[task.id] = (seen, body)
        return body

    # -- time -----------------------------------------------------------------------

    async def on_request(self) -> None:
        """Stepped clock: every API request moves time one step first."""
        step = self.clock.on_request()
        if step and self.scheduler.busy:
            # A callback attempt is in flight and its receiver may be calling us from
            # its webhook: move time, leave the events to the run already going.
            self.clock.set(self.clock.now() + step)
        elif step:
            await self.scheduler.run_until(self.clock.now() + step)

    async def advance(self, seconds: float) -> float:
        if not self.clock.can_advance():
            raise ApiError(
                409,
                "The real clock cannot be advanced; start with --clock virtual",
                param="seconds",
                error_type="invalid_request_error",
            )
        await self.scheduler.run_until(self.clock.now() + seconds)
        self.persist_clock()
        return self.clock.now()

    def persist_clock(self) -> None:
        if self.clock.can_advance():
            self.store.set_meta(clock_now=repr(self.clock.now()))

    def settle_due(self) -> None:
        self.scheduler.run_due_sync(self.clock.now())

    async def run_due(self) -> None:
        """Run every event due now, callback attempts included (any clock)."""
        await self.scheduler.run_until(self.clock.now())

    # -- billing confirmation ---------------------------------------------------------

    def _settle(self, task_id: str, due: float) -> None:
        task = self.tasks.get(task_id)
        if task is None or task.settled or task.plan.finish > due:
            return
        model = self.config.models[task.request.model]
        charge = None
        if task.plan.outcome == "completed":
            charge = billing.request_cost(model, task.request, task.input_seconds)
        entries = self.ledger.settle(task.key, task.id, task.reserved, charge, due)
        url = task.request.callback_url
        # the callback body is what a poll answers now (byte for byte), queued with the money
        callbacks = Outbox.rows(task.id, url, self.task_json(task) if url else b"", due)
        self.store.settle([(task.id, entries)], callbacks)
        self.ledger.apply(entries)
        task.settled = True
        if callbacks:
            self.outbox.schedule(task.id, due)

    # -- control --------------------------------------------------------------------

    def control_task(self, task_id: str) -> Task:
        task = self.tasks.get(task_id)
        if task is None:
            raise task_not_found()
        return task

    def force(
        self,
        task_id: str,
        outcome: Outcome,
        code: str | None = None,
        message: str | None = None,
        forced: str = "control",
    ) -> Task:
        """End a task now with ``outcome``; a task already ended is left as it is."""
        task = self.control_task(task_id)
        now = self.clock.now()
        plan = lifecycle.end_now(task.plan, now, outcome, code, message, forced)
        if plan is not task.plan:
            self.store.update_plan(task.id, plan)
            task.plan = plan
            self._views.pop(task.id, None)
            self.scheduler.add(plan.finish, "settle", task.id)
            self.scheduler.run_due_sync(now)
        return task

    def put_keys(self, keys: Mapping[str, Mapping[str, Any]]) -> None:
        """Create or update keys; ``credits`` sets the available balance exactly."""
        now = self.clock.now()
        infos: dict[str, KeyInfo] = {}
        entries = []
        for key, spec in keys.items():
            info = parse_key_spec(key, spec, self.keys.get(key, KeyInfo()), self.config.models)
            infos[key] = info
            if "credits" in spec:
                try:
                    credits = billing.parse_credits(spec["credits"])
                except ValueError as exc:
                    raise invalid(f"keys.{key}.credits", str(exc)) from None
                entries += self.ledger.set_credits(key, credits, now)
        self.store.put_keys({k: v.to_json() for k, v in infos.items()}, entries)
        self.ledger.apply(entries)
        self.keys.update(infos)

    def reset(self) -> None:
        """Forget everything but the configuration; a virtual clock goes back to its start."""
        self.media.reset()
        self.store.reset()
        self.tasks.clear()
        self._views.clear()
        self.keys.clear()
        self.ledger = Ledger()
        self.scheduler.clear()
        self.outbox.reset()
        self.journal.pending.clear()
        self.last_poll.clear()
        self.scenarios = Scenarios()
        if isinstance(self.clock, VirtualClock):
            self.clock.reset(self._clock_start)
        self.store.set_meta(
            clock_start=str(self._clock_start), secret=self._secret.hex(), scenarios_loaded="1"
        )
        self._install_config_keys()
        self.load_scenario_file()
