"""Tasks: create one, find one, and the poll's answer cache.

The store is the truth; ``cache`` keeps the tasks being polled (and their rendered
answers), so a poll is a dict lookup and never a round trip (docs/ARCHITECTURE.md
"The poll"). A task not cached is read through from the store.
"""

from __future__ import annotations

import random
import re
import string
from dataclasses import dataclass, field
from typing import Any

import orjson

from mock_server.domain import billing, lifecycle, scenarios, validation
from mock_server.domain.catalog import TIMING_PROFILES
from mock_server.domain.errors import invalid_task_id, task_not_found
from mock_server.domain.lifecycle import Observation
from mock_server.domain.models import Plan, ReferenceInfo, Task
from mock_server.domain.scenarios import CREATE_PATH, Facts
from mock_server.domain.taskview import task_object
from mock_server.media.references import Media
from mock_server.runtime.clock import Clock
from mock_server.runtime.config import Config
from mock_server.runtime.scheduler import Scheduler
from mock_server.service.accounts import Accounts
from mock_server.service.cache import TaskCache
from mock_server.service.rulebook import RuleBook
from mock_server.service.settling import SettleWindow
from mock_server.store.protocols import Store

TASK_ID_RE = re.compile(r"task-unified-\d{1,12}-[a-z0-9]{8}")
_ID_ALPHABET = string.ascii_lowercase + string.digits


@dataclass
class Tasks:
    """The task API's operations, as one process serves them."""

    config: Config
    store: Store
    clock: Clock
    scheduler: Scheduler
    accounts: Accounts
    rules: RuleBook
    media: Media
    settling: SettleWindow
    seed: int
    secret: bytes
    cache: TaskCache = field(init=False)

    def __post_init__(self) -> None:
        self.cache = TaskCache(self.config.cache_tasks)

    # -- create ---------------------------------------------------------------------------

    async def submit(self, key: str, body: object) -> tuple[Task, bytes]:
        """``POST /v1/videos/generations``: the task made and its answer. With
        ``--fetch-references`` unknown reference URLs are downloaded and probed first."""
        await self.media.prefetch(body)
        task = self.create(key, body)
        return task, self.answer(task)

    def create(self, key: str, body: object) -> Task:
        """Validate, price and reserve, draw the plan, store the task (one transaction)."""
        info = self.accounts.info(key)
        request = validation.parse_create(
            body,
            allowed_callback_hosts=frozenset(self.config.allow_callback_host),
            forbidden_models=info.forbidden(self.config.models),
        )
        model = self.config.models[request.model]
        probes = [ReferenceInfo.of(self.media.reference(url)) for url in request.video_urls]
        references = tuple(p.seconds or self.config.reference_seconds for p in probes)
        billed_input = billing.input_seconds(references)
        reserve = billing.request_cost(model, request, billed_input)

        now = self.clock.now()
        self.scheduler.run_due_sync(now)
        # The number comes from the store, so no two processes sharing it draw alike.
        rng = random.Random(f"{self.seed}:{self.store.next_task_number()}")
        task_id = _new_task_id(int(now), rng)
        timing = TIMING_PROFILES[self.config.profile]
        estimate = lifecycle.estimated_seconds(model, request.quality, request.duration, timing)
        plan = lifecycle.draw_plan(rng, now, estimate, timing)
        problem = next((p.problem for p in probes if p.problem), None)
        if problem is not None:  # a bad reference fails when work starts (SOURCES.md "Media")
            plan = plan.ended_at(plan.start, "failed", *problem, "reference", 0)
        else:
            asked = Facts("POST", CREATE_PATH, key, request.model, request.prompt)
            plan = self._shape(plan, rng, asked)
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
        self.adopt(stored)
        if "[wanmock:" in request.prompt:
            self.rules.poll_rules(request.prompt, key, stored.id)
        return stored

    def _shape(self, plan: Plan, rng: random.Random, asked: Facts) -> Plan:
        """A scenario rule's effect on the plan, else the seeded random failure rate."""
        effect = self.rules.task_effect(asked)
        if effect is not None:
            return scenarios.shape_plan(plan, effect)
        if self.config.failure_rate and rng.random() < self.config.failure_rate:
            return scenarios.shape_plan(plan, scenarios.random_failure(rng))
        return plan

    def refresh(self, task: Task) -> None:
        """A newer copy of a task replaces a cached one (a task not cached stays out)."""
        self.cache.refresh(task)

    def forget_all(self) -> None:
        """Empty the cache (the store was reset, or is being loaded again)."""
        self.cache.clear()

    def adopt(self, task: Task) -> None:
        """Cache a task this process made or learnt of; an unsettled one waits to settle."""
        self.cache.put(task)
        if not task.settled:
            self.settling.admit(task.id, task.plan.finish)

    # -- find -----------------------------------------------------------------------------

    def find(self, task_id: str) -> Task | None:
        """A task from the cache, else read through from the store (and cached)."""
        task = self.cache.get(task_id)
        if task is None and TASK_ID_RE.fullmatch(task_id):
            task = self.store.get_task(task_id)
            if task is not None:
                self.cache.put(task)
        return task

    def get(self, key: str, task_id: str) -> Task:
        """``key``'s task, else the real API's 400 (malformed id) or 404."""
        task = self.cache.get(task_id)  # stored ids are well formed: the regex only on a miss
        if task is None:
            if not TASK_ID_RE.fullmatch(task_id):
                raise invalid_task_id()
            task = self.find(task_id)
        if task is None or task.key != key:
            raise task_not_found()
        return task

    def fresh(self, task_id: str) -> Task:
        """The store's copy of any key's task (the control API's view), else 404."""
        task = self.store.get_task(task_id)
        if task is None:
            raise task_not_found()
        self.cache.refresh(task)
        return task

    def stored(self, task_id: str) -> Task | None:
        """The store's copy of any key's task, if there is one (a reader's view)."""
        return self.store.get_task(task_id)

    def count(self) -> int:
        return self.store.count_tasks()

    def page(
        self,
        key: str | None,
        limit: int,
        after: tuple[float, str] | None = None,
        finish_from: float | None = None,
    ) -> tuple[list[Task], tuple[float, str] | None]:
        """Up to ``limit`` tasks oldest first after ``after`` (a keyset position), and
        the next page's position (None at the end)."""
        return self.store.page_tasks(key, limit, after, finish_from)

    def newest(self, limit: int) -> list[Task]:
        return self.store.newest_tasks(limit)

    # -- retention --------------------------------------------------------------------------

    def purge_settled(self, before: float, limit: int) -> list[str]:
        """Remove up to ``limit`` tasks settled and ended before ``before``; their ids."""
        ids = self.store.purge_settled(before, limit)
        self.cache.forget(ids)
        return ids

    def forget_settled_before(self, before: float) -> None:
        """Another process may have purged tasks this one still caches: drop those too."""
        self.cache.forget_settled_before(before)

    def result_kinds(self) -> list[tuple[str, str, str, int, bool]]:
        """(model, quality, ratio, seconds, audio) of every stored task's results."""
        return self.store.result_kinds()

    # -- answers --------------------------------------------------------------------------

    def observe(self, task: Task) -> Observation:
        return lifecycle.observe(task.plan, self.clock.now(), task.estimated_time)

    def body(self, task: Task) -> dict[str, Any]:
        """The task object the API answers for ``task`` now."""
        return self._object(task, self.observe(task))

    def _object(self, task: Task, seen: Observation) -> dict[str, Any]:
        model = self.config.models[task.request.model]
        return task_object(task, seen, model, self.config.base_url, self.secret)

    def answer(self, task: Task) -> bytes:
        """The poll's answer, re-encoded only when what it shows has moved."""
        seen = self.observe(task)
        cached = self.cache.view(task.id)
        if cached is not None and cached[0] == seen:
            return cached[1]
        body = orjson.dumps(self._object(task, seen))
        self.cache.keep_view(task.id, seen, body)
        return body

    def poll(self, key: str, task_id: str) -> bytes:
        """``GET /v1/tasks/{id}``: ``key``'s task as the API answers it now (a cached
        task of this key is answered with no further lookup: the poll is the hot path)."""
        task = self.cache.get(task_id)
        if task is None or task.key != key:
            task = self.get(key, task_id)
        return self.answer(task)


def _new_task_id(created: int, rng: random.Random) -> str:
    suffix = "".join(rng.choice(_ID_ALPHABET) for _ in range(8))
    return f"task-unified-{created}-{suffix}"
