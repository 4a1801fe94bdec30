"""The fake's steering: time (advance, the stepped clock's tick), billing confirmation
(settling an ended task once, whichever process gets there), forced outcomes, keys and
the money they hold, and the record the control API reads.

A mixin of ``Fake`` (service/fake.py), which owns the caches these operations keep true.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

import orjson

from mock_server.delivery.outbox import Outbox
from mock_server.domain import billing, lifecycle
from mock_server.domain.errors import ApiError, invalid, task_not_found
from mock_server.domain.keys import KeyInfo, parse_key_spec
from mock_server.domain.models import LedgerEntry, Outcome, Task
from mock_server.runtime.clock import Clock
from mock_server.runtime.config import Config
from mock_server.runtime.scheduler import Scheduler
from mock_server.service.cache import TaskCache
from mock_server.service.settling import SETTLE
from mock_server.store.protocols import Store

# Conditional changes that lost a race are retried this often before giving up.
RETRIES = 8


class Steering:
    config: Config
    store: Store
    clock: Clock
    scheduler: Scheduler
    tasks: TaskCache
    keys: dict[str, KeyInfo]
    outbox: Outbox

    def _wrote(self, rev: int) -> None:
        raise NotImplementedError

    def sync(self) -> None:
        raise NotImplementedError

    def task_body(self, task: Task) -> dict[str, Any]:
        raise NotImplementedError

    # -- time -----------------------------------------------------------------------

    async def on_request(self) -> None:
        """Stepped clock: every API request moves the shared clock one step first."""
        step = self.clock.on_request()
        if not step:
            return
        now, rev = self.store.step_clock(step, self.clock.now())
        self._wrote(rev)
        if self.scheduler.busy:
            # A callback attempt is in flight and its receiver may be calling us from
            # its webhook: move time, leave the events to the run already going.
            self.clock.set(now)
        else:
            await self.scheduler.run_until(now)

    async def advance(self, seconds: float) -> float:
        if not self.clock.can_advance():
            raise ApiError(
                409,
                "The real clock cannot be advanced; start with --clock virtual",
                param="seconds",
                error_type="invalid_request_error",
            )
        self.sync()
        target = self.clock.now() + seconds
        await self.scheduler.run_until(target)
        now, rev = self.store.move_clock(target)
        self._wrote(rev)
        self.clock.set(now)
        return self.clock.now()

    def settle_due(self) -> None:
        self.scheduler.run_due_sync(self.clock.now())

    async def run_due(self) -> None:
        """Run every event due now, callback attempts included (any clock)."""
        await self.scheduler.run_until(self.clock.now())

    # -- billing confirmation ---------------------------------------------------------

    def _settle(self, task_id: str, due: float) -> None:
        """Bill an ended task once, whichever process gets there first."""
        task = self.store.get_task(task_id)
        for _ in range(RETRIES):
            if task is None or task.settled or task.plan.finish > due:
                if task is not None:
                    self.tasks.refresh(task)
                return
            charge = self.charge_of(task)
            entries = billing.settlement(task.key, task.id, task.reserved, charge, due)
            url = task.request.callback_url
            # the callback body is what a poll answers now (byte for byte), queued with
            # the money
            body = orjson.dumps(self.task_body(task)) if url else b""
            callbacks = Outbox.rows(task.id, url, body, due)
            settled = self.store.settle(task, entries, callbacks)
            if settled is not None:
                self._wrote(settled.rev)
                self.tasks.refresh(settled)
                if callbacks:
                    self.outbox.schedule(task.id, due)
                return
            task = self.store.get_task(task_id)

    def charge_of(self, task: Task) -> Decimal | None:
        """What an ended task is charged: its price on success, nothing otherwise."""
        if task.plan.outcome != "completed":
            return None
        model = self.config.models[task.request.model]
        return billing.request_cost(model, task.request, task.input_seconds)

    # -- control --------------------------------------------------------------------

    def control_task(self, task_id: str) -> Task:
        task = self.store.get_task(task_id)
        if task is None:
            raise task_not_found()
        self.tasks.refresh(task)
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
        for _ in range(RETRIES):
            plan = lifecycle.end_now(task.plan, now, outcome, code, message, forced)
            if plan is task.plan:
                return task
            changed = self.store.update_plan(task, plan)
            if changed is not None:
                self._wrote(changed.rev)
                self.tasks.refresh(changed)
                self.scheduler.add(plan.finish, SETTLE, task.id)
                self.scheduler.run_due_sync(now)
                return self.control_task(task_id)
            task = self.control_task(task_id)
        return task

    def put_keys(self, keys: Mapping[str, Mapping[str, Any]]) -> None:
        """Create or update keys; ``credits`` sets the available balance exactly."""
        now = self.clock.now()
        infos: dict[str, KeyInfo] = {}
        credits: dict[str, Decimal] = {}
        for key, spec in keys.items():
            infos[key] = parse_key_spec(
                key, spec, self.keys.get(key, KeyInfo()), self.config.models
            )
            if "credits" in spec:
                try:
                    credits[key] = billing.parse_credits(spec["credits"])
                except ValueError as exc:
                    raise invalid(f"keys.{key}.credits", str(exc)) from None

        def grants(key: str, available: Decimal) -> list[LedgerEntry]:
            if key not in credits:
                return []
            return billing.credit_grants(key, credits[key], available, now)

        self.store.put_keys({k: v.to_json() for k, v in infos.items()}, grants)
        self.keys.update(infos)

    def balance(self, key: str) -> billing.Balance:
        self.settle_due()
        return self.store.balance(key)

    def balances(self) -> dict[str, billing.Balance]:
        self.settle_due()
        return self.store.balances()

    def ledger_entries(self, key: str | None = None) -> list[LedgerEntry]:
        self.settle_due()
        return self.store.ledger_entries(key)

    def callbacks(self, task_id: str | None = None) -> dict[str, Any]:
        """Deliveries and every attempt (delivery/outbox.py), oldest first."""
        self.settle_due()
        return self.outbox.describe(task_id)

    def count_tasks(self) -> int:
        return self.store.count_tasks()
