"""Which unsettled tasks wait on the scheduler: a window, never the whole history.

Every unsettled task needs a settle event at its finish, but a fake that was handed
200,000 tasks and never advanced would hold 200,000 events. The store already keeps the
unsettled tasks ordered by finish (an index), so the scheduler holds only the earliest
``size`` of them plus one ``settle-window`` event at the last one's finish; when that
event runs, the next ``size`` are read from the store (keyset paging on (finish, id)).
A task that ends inside the window is scheduled at once; one that ends past it is
picked up when the window reaches it. A settle event for a task already settled does
nothing (``Timekeeper.settle`` reads the store), so loading a task twice is harmless.

A create tells no other process (store/tasks.py ``insert_task``: creates on several
replicas never wait on one another), so before this process runs its clock to an
instant it reads which unsettled tasks end by then (``catch_up``): one indexed query,
and the tasks other processes made are settled by whichever gets there first.
"""

from __future__ import annotations

from mock_server.runtime.scheduler import Scheduler
from mock_server.store.protocols import Store

WINDOW = 2048
SETTLE = "settle"
REFILL = "settle-window"


class SettleWindow:
    """Settle events for the earliest unsettled tasks, refilled from the store."""

    def __init__(self, store: Store, scheduler: Scheduler, size: int = WINDOW) -> None:
        self.store = store
        self.scheduler = scheduler
        self.size = size
        # (finish, id) of the last task the window holds; None: it holds every one.
        self.horizon: tuple[float, str] | None = None
        self.queued: set[str] = set()  # tasks with a settle event waiting
        scheduler.on(REFILL, self._refill)

    def load(self) -> None:
        """After the scheduler was cleared: schedule the earliest unsettled tasks."""
        self.forget()
        self._fill(None)

    def forget(self) -> None:
        """The scheduler was cleared: no settle event waits."""
        self.queued.clear()
        self.horizon = None

    def admit(self, task_id: str, finish: float) -> None:
        """A task created or changed: schedule it if it ends inside the window."""
        if self.horizon is None or (finish, task_id) <= self.horizon:
            self.queue(task_id, finish)
            if self.scheduler.count(SETTLE) > 2 * self.size:
                self._reload()  # tasks arrive faster than they end: the earliest only

    def queue(self, task_id: str, finish: float) -> None:
        """Settle ``task_id`` at ``finish``, window or not (a task ended now)."""
        self.scheduler.add(finish, SETTLE, task_id)
        self.queued.add(task_id)

    def done(self, task_id: str) -> None:
        """``task_id`` is settled (here or elsewhere): a catch-up may queue it no more."""
        self.queued.discard(task_id)

    def catch_up(self, until: float) -> None:
        """Queue the unsettled tasks ending by ``until`` (inside the window) that this
        process has not queued: those other processes created (the module's docstring
        says why). A window's worth or more is the window read again. A store no other
        process can open holds no such task: nothing to read."""
        if not self.store.shared:
            return
        end = until if self.horizon is None else min(until, self.horizon[0])
        rows = self.store.unsettled_after(None, self.size, end)
        if len(rows) == self.size:
            self._reload()
            return
        for task_id, finish in rows:
            if task_id not in self.queued:
                self.queue(task_id, finish)

    def _reload(self) -> None:
        self.scheduler.drop(SETTLE, REFILL)
        self.load()

    def _fill(self, after: tuple[float, str] | None) -> None:
        rows = self.store.unsettled_after(after, self.size)
        for task_id, finish in rows:
            self.queue(task_id, finish)
        if len(rows) < self.size:
            self.horizon = None
            return
        self.horizon = (rows[-1][1], rows[-1][0])
        self.scheduler.add(rows[-1][1], REFILL, "")

    def _refill(self, ref: str, due: float) -> None:
        if self.horizon is not None and due >= self.horizon[0]:
            self._fill(self.horizon)
