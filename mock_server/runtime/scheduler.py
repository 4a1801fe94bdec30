"""A due-time queue of side effects, driven by the clock.

Only side effects are events (billing confirmation, callback attempts): a task's status
is computed, never flipped. ``run_until`` runs every event due by a target instant in time
order, moving a virtual clock to each event's due time first, so an effect sees exactly
the instant it was due at. Entries are (due, seq, kind, ref); the handler for ``kind``
decides whether a popped entry is still current, so stale entries need no removal.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import itertools
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field

from mock_server.runtime.clock import Clock

Handler = Callable[[str, float], Awaitable[None] | None]


@dataclass(order=True, slots=True)
class Event:
    due: float
    seq: int
    kind: str = field(compare=False)
    ref: str = field(compare=False)


class Scheduler:
    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self._heap: list[Event] = []
        self._seq = itertools.count()
        self._handlers: dict[str, Handler] = {}
        self._counts: dict[str, int] = {}  # events queued, by kind
        self._wake = asyncio.Event()
        self._lock = asyncio.Lock()

    def on(self, kind: str, handler: Handler) -> None:
        self._handlers[kind] = handler

    def add(self, due: float, kind: str, ref: str) -> None:
        event = Event(due, next(self._seq), kind, ref)
        earlier = not self._heap or event < self._heap[0]
        heapq.heappush(self._heap, event)
        self._counts[kind] = self._counts.get(kind, 0) + 1
        if earlier:
            self._wake.set()

    def clear(self) -> None:
        self._heap.clear()
        self._counts.clear()
        self._wake.set()

    def count(self, kind: str) -> int:
        """How many events of ``kind`` are queued."""
        return self._counts.get(kind, 0)

    def drop(self, *kinds: str) -> None:
        """Forget every queued event of these kinds (their owner queues them anew)."""
        self._heap = [e for e in self._heap if e.kind not in kinds]
        heapq.heapify(self._heap)
        for kind in kinds:
            self._counts.pop(kind, None)

    def _pop(self) -> Event:
        event = heapq.heappop(self._heap)
        self._counts[event.kind] -= 1
        return event

    @contextlib.contextmanager
    def _kept_on_failure(self, event: Event) -> Iterator[None]:
        """An event whose handler raised (a store that cannot write for now) did not
        happen: it goes back in the queue, due as before, and runs again next time."""
        try:
            yield
        except BaseException:
            heapq.heappush(self._heap, event)
            self._counts[event.kind] = self._counts.get(event.kind, 0) + 1
            raise

    @property
    def busy(self) -> bool:
        """Is a run in progress (awaiting an async handler, such as a callback attempt)?"""
        return self._lock.locked()

    def next_due(self) -> float | None:
        return self._heap[0].due if self._heap else None

    def __len__(self) -> int:
        return len(self._heap)

    def run_due_sync(self, now: float) -> None:
        """Run due events whose handlers are synchronous; stops at the first async one.

        For read paths (ledger, a create's balance check) that must see settled money
        without awaiting; async work is left for ``run_until``.
        """
        while self._heap and self._heap[0].due <= now:
            event = self._heap[0]
            handler = self._handlers[event.kind]
            if asyncio.iscoroutinefunction(handler):
                return
            self._pop()
            with self._kept_on_failure(event):
                handler(event.ref, event.due)

    async def run_until(self, target: float) -> int:
        """Run every event due by ``target`` in time order; returns how many ran."""
        ran = 0
        async with self._lock:
            while self._heap and self._heap[0].due <= target:
                event = self._pop()
                if self.clock.can_advance():
                    self.clock.set(event.due)
                with self._kept_on_failure(event):
                    result = self._handlers[event.kind](event.ref, event.due)
                    if result is not None:
                        await result
                ran += 1
            if self.clock.can_advance():
                self.clock.set(target)
        return ran

    async def run_forever(self) -> None:
        """Real clock: sleep until the next event is due (or a sooner one is added)."""
        while True:
            self._wake.clear()
            due = self.next_due()
            if due is not None and due <= self.clock.now():
                await self.run_until(self.clock.now())
                continue
            await self.clock.wait(self._wake, due)
