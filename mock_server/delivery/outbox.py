"""The callback outbox: when each attempt is due, who makes it, and what it recorded.

On completed, failed or cancelled, after billing is confirmed, the task object is POSTed
to ``callback_url``; 10 s timeout; a 2xx answer ends delivery; anything else is retried 1,
2 and 4 s after each failure, at most 4 attempts (SOURCES.md "Callbacks").

The flow: ``Timekeeper.settle`` (service/timekeeper.py) writes the outbox row in the
same transaction as the settlement, then ``schedule`` puts a ``callback`` event on the
scheduler. When it is due, ``on_due`` re-reads the row (the store is the truth: another
process may have moved it), claims the attempt under a lease, has the sender make it,
and records the attempt together with the delivery's next step in one transaction. A
restart reloads every pending row.

Clock modes:

* virtual and stepped: ``on_due`` awaits the attempt, so an advance returns only after
  every attempt due in its window was made, in time order. The virtual clock stands still
  while an attempt is in flight; ``--callback-wall-timeout`` (default 10) bounds the real
  wait, and an attempt that reaches it counts as the 10 s timeout: it ends 10 s after it
  started on the server clock, and its retry is due 1/2/4 s after that.
* real: ``on_due`` starts the attempt as a background task and returns, so one slow
  receiver delays no other event; the real wait is bounded by 10 s / ``--time-scale``.

The HTTP half (httpx, the connect-time SSRF check) is ``mock_server/delivery/sender.py``,
which the service hands in as a factory called on first use, so this module and the
service stay free of httpx until a callback is due.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import socket
from collections.abc import Callable
from pathlib import Path
from typing import Any, Final

from contracts import facts
from mock_server.delivery.attempt import (
    Answer,
    Sender,
    attempt_end,
    retry_due,
)
from mock_server.domain.models import Delivery
from mock_server.runtime.clock import Clock, scale_of, wall_time
from mock_server.runtime.config import Config
from mock_server.runtime.scheduler import Scheduler
from mock_server.store.protocols import Store
from mock_server.store.records import StoreClosedError, StoreUnavailable

log = logging.getLogger("wanmock.callbacks")

# A claim outlives the longest an attempt may take by this many real seconds, so only an
# owner that died (or hung) loses it.
LEASE_MARGIN_SECONDS: Final = 20.0


def owner_is_dead(owner: str) -> bool:
    """Is the claim holder a process on this machine that no longer runs (``kill -9``)?

    Owners elsewhere (a shared PostgreSQL) are never judged: their leases expire instead.
    """
    host, _, rest = owner.partition(":")
    pid_text = rest.partition(":")[0]
    if host != socket.gethostname() or not pid_text.isdigit() or int(pid_text) == os.getpid():
        return False
    pid = int(pid_text)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    try:  # killed but not yet reaped by its parent: a zombie makes no more attempts
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except (OSError, IndexError):
        return False


class Outbox:
    """Pending deliveries of one fake: scheduling, claims, attempts and their records."""

    def __init__(
        self,
        config: Config,
        store: Store,
        clock: Clock,
        scheduler: Scheduler,
        sender: Sender | None = None,
        sender_factory: Callable[[], Sender] | None = None,
    ) -> None:
        self.config = config
        self.store = store
        self.clock = clock
        self.scheduler = scheduler
        self.sender = sender
        self._sender_factory = sender_factory
        # host:pid:nonce, so a claim names its process (see ``owner_is_dead``)
        self.owner = f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"
        self._due: dict[str, float] = {}  # task id -> the due time queued for it
        self._running: set[asyncio.Task[None]] = set()
        scheduler.on("callback", self.on_due)

    # -- entering the outbox ------------------------------------------------------------

    @staticmethod
    def rows(
        task_id: str, url: str | None, body: bytes, due: float
    ) -> list[tuple[str, str, bytes, float]]:
        """The outbox row for a settled task (none without a callback URL), for
        ``Store.settle`` to write in the settlement's transaction."""
        return [] if url is None else [(task_id, url, body, due)]

    def schedule(self, task_id: str, due: float) -> None:
        queued = self._due.get(task_id)
        if queued is not None and queued <= due:
            return
        self._due[task_id] = due
        self.scheduler.add(due, "callback", task_id)

    def catch_up(self, since_rev: int) -> None:
        """Deliveries another process queued or failed after change ``since_rev``: this
        process schedules them too (whichever claims one first makes the attempt)."""
        for row in self.store.callbacks_since(since_rev):
            if row.next_due is not None:
                self.schedule(row.task_id, row.next_due)

    def resume(self) -> None:
        """After a start: every pending delivery is due at its stored time."""
        for row in self.store.callbacks(pending=True):
            if row.next_due is not None:
                self.schedule(row.task_id, row.next_due)

    # -- making attempts ----------------------------------------------------------------

    def wall_limit(self) -> float:
        """Real seconds one attempt may wait for its answer."""
        if self.clock.mode == "real":
            return facts.CALLBACK_TIMEOUT_SECONDS / scale_of(self.clock)
        return self.config.callback_wall_timeout

    async def on_due(self, task_id: str, due: float) -> None:
        if self._due.get(task_id) != due:
            return  # superseded by an earlier or later schedule
        del self._due[task_id]
        try:
            row = self._claimed(task_id, due)
        except StoreUnavailable:  # the scheduler keeps the event: it runs again later
            self._due[task_id] = due
            raise
        if row is None:
            return
        if self.clock.mode == "real":
            job = asyncio.create_task(self._attempt(row), name=f"callback {task_id}")
            self._running.add(job)
            job.add_done_callback(self._running.discard)
        else:
            await self._attempt(row)

    def _claimed(self, task_id: str, due: float) -> Delivery | None:
        """The delivery, if its attempt due at ``due`` is still to make and now ours."""
        found = self.store.callbacks(task_id, pending=True)
        if not found:
            return None
        row = found[0]
        if row.next_due is None or row.next_due > due:
            if row.next_due is not None:  # another process moved it on
                self.schedule(task_id, row.next_due)
            return None
        return row if self._claim(row) else None

    def _claim(self, row: Delivery) -> bool:
        task_id, made = row.task_id, row.attempts
        now = wall_time()
        lease = now + self.wall_limit() + LEASE_MARGIN_SECONDS
        if self.store.claim_callback(task_id, made, self.owner, lease, now):
            return True
        found = self.store.callbacks(task_id, pending=True)
        if not found:
            return False
        held = found[0]
        if held.attempts != made:  # another process made it already: follow the row
            if held.next_due is not None:
                self.schedule(task_id, held.next_due)
            return False
        holder = held.claimed_by
        if (
            holder
            and owner_is_dead(holder)
            and self.store.claim_callback(task_id, made, self.owner, lease, now, holder)
        ):
            log.info("callback %s: attempt %d taken over from dead %s", task_id, made + 1, holder)
            return True
        # a live process holds the attempt: look again when its lease runs out
        wait = max((held.lease_until or now) - now, 0.5) * scale_of(self.clock)
        self.schedule(task_id, max(self.clock.now(), row.next_due or 0.0) + wait)
        return False

    def _sender(self) -> Sender:
        if self.sender is None:
            if self._sender_factory is None:
                raise RuntimeError("the outbox has neither a sender nor a way to make one")
            self.sender = self._sender_factory()
        return self.sender

    async def _attempt(self, row: Delivery) -> None:
        task_id, number = row.task_id, row.attempts + 1
        sender = self._sender()  # made (and its TLS context loaded) before the attempt starts
        started = self.clock.now()
        try:
            answer = await sender.send(row.url, row.body, number, self.wall_limit())
        except Exception as exc:  # a bug in a sender must not end the schedule
            log.exception("callback %s: attempt %d crashed", task_id, number)
            answer = Answer(error=f"internal error: {exc!r}", kind="internal")
        finished = attempt_end(started, self.clock.now(), answer)
        next_due = None if answer.delivered else retry_due(number, finished)
        state = "delivered" if answer.delivered else "pending" if next_due else "exhausted"
        record = {
            "number": number,
            "scheduled_at": row.next_due,
            "attempted_at": started,
            "finished_at": finished,
            "url": row.url,
            "outcome": "delivered" if answer.delivered else "failed",
            "status": answer.status,
            "error": answer.error,
            "error_kind": None if answer.kind == "status" else answer.kind,
            "latency_ms": round(answer.latency_ms, 3),
            "address": answer.address,
        }
        try:
            recorded = self.store.record_callback_attempt(
                task_id, self.owner, record, state, next_due
            )
        except StoreClosedError:  # the store closed under us (shutdown)
            return
        except StoreUnavailable:
            # Made but not recorded (the store logged the fault): the claim is still
            # ours, so the attempt is made again once the store answers. At least once,
            # never early; the receiver may see this attempt twice.
            self.schedule(task_id, row.next_due if row.next_due is not None else started)
            return
        if not recorded:  # reset, or our lease was broken: the row is someone else's now
            log.warning("callback %s: attempt %d made but no longer ours", task_id, number)
        elif next_due is not None:
            self.schedule(task_id, next_due)

    # -- observing and stopping ---------------------------------------------------------

    def describe(self, task_id: str | None = None) -> dict[str, Any]:
        """Deliveries and every attempt (all of them: for small fakes and the timeline)."""
        attempts = sorted(
            self.store.callback_attempts(None if task_id is None else [task_id]),
            key=lambda a: (a["attempted_at"], a["task_id"], a["number"]),
        )
        deliveries = [_delivery_view(row) for row in self.store.callbacks(task_id)]
        return {"callbacks": deliveries, "attempts": attempts}

    def attempts_after(
        self, key: str | None, task_id: str | None, after: tuple[float, int, str], limit: int
    ) -> list[dict[str, Any]]:
        """Up to ``limit`` attempts after (at, number, task id), oldest first."""
        return self.store.callback_attempts(
            None if task_id is None else [task_id], key, after, limit
        )

    def describe_page(
        self, task_id: str | None, after: int, limit: int
    ) -> tuple[dict[str, Any], int | None]:
        """Up to ``limit`` deliveries past position ``after`` with every attempt of each,
        for ``GET /_mock/callbacks``; and the position of the next page (None: the end)."""
        rows = self.store.callbacks(task_id, after=after, limit=limit + 1)
        more = len(rows) > limit
        rows = rows[:limit]
        attempts = sorted(
            self.store.callback_attempts([row.task_id for row in rows]),
            key=lambda a: (a["attempted_at"], a["task_id"], a["number"]),
        )
        page = {"callbacks": [_delivery_view(row) for row in rows], "attempts": attempts}
        return page, rows[-1].position if more else None

    def reset(self) -> None:
        """Forget queued deliveries (the store's rows are cleared by its reset)."""
        self._due.clear()
        for job in self._running:
            job.cancel()

    async def aclose(self) -> None:
        """Stop attempts in flight and hand their claims back for the next start."""
        for job in list(self._running):
            job.cancel()
        if self._running:
            await asyncio.gather(*self._running, return_exceptions=True)
        with contextlib.suppress(StoreClosedError):
            self.store.release_callback_claims(self.owner)


def _delivery_view(row: Delivery) -> dict[str, Any]:
    return {
        "task_id": row.task_id,
        "url": row.url,
        "state": row.state,
        "attempts": row.attempts,
        "next_attempt_at": row.next_due,
        "claimed_by": row.claimed_by,
    }
