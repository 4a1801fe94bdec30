"""Time: the clock, what happens when time passes (a task ending is billed once, its
callback queued), and ending a task now on the control API's word.

Billing confirmation happens here because it is the one thing time does by itself: a
task whose plan has ended is settled when the scheduler reaches its finish, by whichever
process sharing the store gets there first.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypedDict, Unpack

import orjson

from mock_server.delivery.outbox import Outbox
from mock_server.domain import billing, lifecycle
from mock_server.domain.errors import ApiError
from mock_server.domain.models import Outcome, Task
from mock_server.runtime.clock import Clock
from mock_server.runtime.config import Config
from mock_server.runtime.scheduler import Scheduler
from mock_server.service.accounts import Accounts
from mock_server.service.revisions import Revisions
from mock_server.service.settling import SETTLE, SettleWindow
from mock_server.service.tasks import Tasks
from mock_server.store.protocols import Store

# Conditional changes that lost a race are retried this often before giving up.
RETRIES = 8


class Ending(TypedDict, total=False):
    """How a forced task ends: its error code and message, and who ended it (the
    plan's ``forced``: ``control`` or ``cancel``)."""

    code: str | None
    message: str | None
    forced: str


@dataclass
class Timekeeper:
    """The clock and the events due on it, for one process of the fake."""

    config: Config
    store: Store
    clock: Clock
    scheduler: Scheduler
    tasks: Tasks
    accounts: Accounts
    settling: SettleWindow
    outbox: Outbox
    revisions: Revisions
    sync: Callable[[], None]
    seed: int
    _latency: random.Random = field(init=False)

    def __post_init__(self) -> None:
        self._latency = random.Random(f"latency:{self.seed}")
        self.scheduler.on(SETTLE, self.settle)

    def now(self) -> float:
        return self.clock.now()

    # -- moving the clock ----------------------------------------------------------------

    async def on_request(self) -> None:
        """Stepped clock: every API request moves the shared clock one step first."""
        step = self.clock.on_request()
        if not step:
            return
        now, rev = self.store.step_clock(step, self.clock.now())
        self.revisions.wrote(rev)
        self.settling.catch_up(now)
        if self.scheduler.busy:
            # A callback attempt is in flight and its receiver may be calling us from
            # its webhook: move time, leave the events to the run already going.
            self.clock.set(now)
        else:
            await self.scheduler.run_until(now)

    async def advance(self, seconds: float) -> float:
        """Move a virtual clock, running every event due on the way."""
        if not self.clock.can_advance():
            raise ApiError(
                409,
                "The real clock cannot be advanced; start with --clock virtual",
                param="seconds",
                error_type="invalid_request_error",
            )
        self.sync()
        target = self.clock.now() + seconds
        self.settling.catch_up(target)
        await self.scheduler.run_until(target)
        now, rev = self.store.move_clock(target)
        self.revisions.wrote(rev)
        self.clock.set(now)
        return self.clock.now()

    def latency(self) -> float:
        """Seconds to hold this answer back (``--latency LOW,HIGH``, seeded), 0 without."""
        low, high = self.config.latency
        return self._latency.uniform(low, high) if high else 0.0

    def next_due(self) -> float | None:
        """When the next event is due (None: nothing is waiting)."""
        return self.scheduler.next_due()

    async def run_forever(self) -> None:
        """Real clock: make side effects happen when they are due."""
        await self.scheduler.run_forever()

    def settle_due(self) -> None:
        """Bill every task ended by now, whichever process made it (callback attempts
        wait for the loop)."""
        now = self.clock.now()
        self.settling.catch_up(now)
        self.scheduler.run_due_sync(now)

    async def run_due(self) -> None:
        """Run every event due now, callback attempts included (any clock)."""
        await self.scheduler.run_until(self.clock.now())

    # -- billing confirmation --------------------------------------------------------------

    def settle(self, task_id: str, due: float) -> None:
        """Bill an ended task once, whichever process gets there first; queue its callback
        in the same transaction."""
        task = self.store.get_task(task_id)
        for _ in range(RETRIES):
            if task is None or task.settled:
                self.settling.done(task_id)
            if task is None or task.settled or task.plan.finish > due:
                if task is not None:
                    self.tasks.refresh(task)
                return
            charge = self.accounts.charge_of(task)
            entries = billing.settlement(task.key, task.id, task.reserved, charge, due)
            url = task.request.callback_url
            # the callback body is what a poll answers now (byte for byte)
            body = orjson.dumps(self.tasks.body(task)) if url else b""
            callbacks = Outbox.rows(task.id, url, body, due)
            settled = self.store.settle(task, entries, callbacks)
            if settled is not None:
                self.revisions.wrote(settled.rev)
                self.tasks.refresh(settled)
                self.settling.done(task_id)
                if callbacks:
                    self.outbox.schedule(task.id, due)
                return
            task = self.store.get_task(task_id)

    # -- ending a task now ------------------------------------------------------------------

    def force(self, task_id: str, outcome: Outcome, **ending: Unpack[Ending]) -> Task:
        """End a task now with ``outcome``; a task already ended is left as it is."""
        task = self.tasks.fresh(task_id)
        now = self.clock.now()
        code, message = ending.get("code"), ending.get("message")
        forced = ending.get("forced", "control")
        for _ in range(RETRIES):
            plan = lifecycle.end_now(task.plan, now, outcome, code, message, forced)
            if plan is task.plan:
                return task
            changed = self.store.update_plan(task, plan)
            if changed is not None:
                self.revisions.wrote(changed.rev)
                self.tasks.refresh(changed)
                self.settling.queue(task.id, plan.finish)
                self.scheduler.run_due_sync(now)
                return self.tasks.fresh(task_id)
            task = self.tasks.fresh(task_id)
        return task

    async def end(self, task_id: str, outcome: Outcome, **ending: Unpack[Ending]) -> Task:
        """``force``, then run what that made due (its callback attempt) before answering."""
        task = self.force(task_id, outcome, **ending)
        await self.run_due()
        return task
