"""A process's cache of tasks: bounded by size, never by history.

The store is the truth; this keeps the tasks being polled (and their rendered answers)
close at hand, so a poll is a dict lookup. It holds at most ``size`` tasks, the least
recently used leaving first; a task outside it is read from the store when asked for
(docs/ARCHITECTURE.md "The store is the source of truth").
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable

from mock_server.domain.lifecycle import Observation
from mock_server.domain.models import Task


class TaskCache:
    """Tasks by id, with each one's last rendered answer."""

    def __init__(self, size: int) -> None:
        if size < 1:
            raise ValueError(f"the task cache holds at least one task, got {size}")
        self.size = size
        self._tasks: OrderedDict[str, Task] = OrderedDict()
        self._views: dict[str, tuple[Observation, bytes]] = {}

    def __len__(self) -> int:
        return len(self._tasks)

    def get(self, task_id: str) -> Task | None:
        task = self._tasks.get(task_id)
        if task is not None:
            self._tasks.move_to_end(task_id)
        return task

    def put(self, task: Task) -> None:
        """Keep ``task`` (a newer version replaces the old one and its rendered answer)."""
        old = self._tasks.get(task.id)
        if old is not None and old.rev != task.rev:
            self._views.pop(task.id, None)
        self._tasks[task.id] = task
        self._tasks.move_to_end(task.id)
        while len(self._tasks) > self.size:
            gone, _ = self._tasks.popitem(last=False)
            self._views.pop(gone, None)

    def refresh(self, task: Task) -> None:
        """Replace a cached copy by a newer one; a task not cached stays out."""
        if task.id in self._tasks:
            self.put(task)

    def view(self, task_id: str) -> tuple[Observation, bytes] | None:
        return self._views.get(task_id)

    def keep_view(self, task_id: str, seen: Observation, body: bytes) -> None:
        if task_id in self._tasks:
            self._views[task_id] = (seen, body)

    def clear(self) -> None:
        self._tasks.clear()
        self._views.clear()

    def forget(self, task_ids: Iterable[str]) -> None:
        """Drop these tasks (purged from the store)."""
        for task_id in task_ids:
            self._tasks.pop(task_id, None)
            self._views.pop(task_id, None)

    def forget_settled_before(self, cutoff: float) -> None:
        """Drop settled tasks that ended before ``cutoff`` (what retention purges)."""
        self.forget([t.id for t in self._tasks.values() if t.settled and t.plan.finish < cutoff])


class PollTimes(dict[str, float]):
    """When each task path was last polled (for the journal's poll-rate note), holding at
    most ``size`` paths: the one polled longest ago leaves first. A path polled again
    moves to the end (``seen``), so a task being polled keeps its entry."""

    def __init__(self, size: int) -> None:
        super().__init__()
        self.size = size

    def seen(self, path: str, now: float) -> float | None:
        """Record a poll of ``path`` at ``now``; the previous one's time, if known."""
        last = self.pop(path, None)
        self[path] = now
        if len(self) > self.size:
            del self[next(iter(self))]
        return last
