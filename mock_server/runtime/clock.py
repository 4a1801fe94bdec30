"""The one source of time.

Nothing else in wanmock reads the wall clock or sleeps: every module asks a ``Clock``.
Three modes share one interface (docs/ARCHITECTURE.md "Time"):

* ``RealClock``: wall time, optionally scaled (a 120 s job takes 2 s at scale 60);
* ``VirtualClock``: time stands still until ``advance``; the owner runs due events;
* ``SteppedClock``: a virtual clock that moves a fixed step on every API request, so an
  unmodified client that polls in a loop sees progress however fast it polls.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from typing import Protocol


class Clock(Protocol):
    mode: str

    def now(self) -> float:
        """Unix seconds on the server's clock."""
        ...

    def can_advance(self) -> bool: ...

    def set(self, now: float) -> None:
        """Move to ``now`` (never backwards); only for clocks that can advance."""
        ...

    def on_request(self) -> float:
        """Seconds to move before an API request is handled (stepped mode only)."""
        ...

    async def wait(self, wake: asyncio.Event, until: float | None) -> None:
        """Wait until the clock reads ``until`` or ``wake`` is set (real mode only)."""
        ...


class RealClock:
    mode = "real"

    def __init__(self, time_scale: float = 1.0) -> None:
        if time_scale <= 0:
            raise ValueError(f"time_scale must be positive, got {time_scale}")
        self.time_scale = time_scale
        self._origin = time.time()

    def now(self) -> float:
        if self.time_scale == 1.0:
            return time.time()
        return self._origin + (time.time() - self._origin) * self.time_scale

    def can_advance(self) -> bool:
        return False

    def set(self, now: float) -> None:
        raise RuntimeError("the real clock cannot be moved; start with --clock virtual")

    def on_request(self) -> float:
        return 0.0

    async def wait(self, wake: asyncio.Event, until: float | None) -> None:
        timeout = None if until is None else max(0.0, (until - self.now()) / self.time_scale)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(wake.wait(), timeout)

    async def sleep(self, seconds: float) -> None:
        """Sleep ``seconds`` of server time (scaled)."""
        await asyncio.sleep(seconds / self.time_scale)


class VirtualClock:
    mode = "virtual"

    def __init__(self, start: float | None = None) -> None:
        self._now = float(start if start is not None else int(time.time()))

    def now(self) -> float:
        return self._now

    def can_advance(self) -> bool:
        return True

    def set(self, now: float) -> None:
        if now > self._now:
            self._now = now

    def on_request(self) -> float:
        return 0.0

    async def wait(self, wake: asyncio.Event, until: float | None) -> None:
        raise RuntimeError("a virtual clock does not wait; advance it")

    def reset(self, start: float) -> None:
        """Back to ``start``: only a full reset of the fake may turn time back."""
        self._now = float(start)


class SteppedClock(VirtualClock):
    mode = "stepped"

    def __init__(self, start: float | None = None, step: float = 1.0) -> None:
        if step <= 0:
            raise ValueError(f"step must be positive, got {step}")
        super().__init__(start)
        self.step = step

    def on_request(self) -> float:
        return self.step


async def idle(seconds: float) -> None:
    """Pause a background loop for ``seconds`` of wall time (housekeeping, not server time)."""
    await asyncio.sleep(seconds)


def pause(seconds: float) -> None:
    """Block for ``seconds`` of wall time (a command line tool waiting between tries)."""
    time.sleep(seconds)


def wall_time() -> float:
    """Wall-clock seconds, for the few things that are not server time (latencies)."""
    return time.time()


def monotonic() -> float:
    return time.perf_counter()


def scale_of(clock: Clock) -> float:
    """Server seconds per real second: a real clock's time scale; 1 for the others."""
    return clock.time_scale if isinstance(clock, RealClock) else 1.0


def make_clock(
    mode: str, *, time_scale: float = 1.0, step: float = 1.0, start: float | None = None
) -> Clock:
    if mode == "real":
        return RealClock(time_scale)
    if mode == "virtual":
        return VirtualClock(start)
    if mode == "stepped":
        return SteppedClock(start, step)
    raise ValueError(f"unknown clock mode {mode!r}: expected real, virtual or stepped")
