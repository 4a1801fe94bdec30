"""The clock modes behind one interface, and the scheduler they drive."""

from __future__ import annotations

import asyncio

import pytest

from mock_server.runtime.clock import SteppedClock, VirtualClock, make_clock
from mock_server.runtime.scheduler import Scheduler


def test_clock_virtual_stands_still_until_set() -> None:
    clock = VirtualClock(100.0)
    assert clock.now() == clock.now() == 100.0


def test_clock_virtual_never_goes_backwards() -> None:
    clock = VirtualClock(100.0)
    clock.set(50.0)
    assert clock.now() == 100.0


def test_clock_stepped_asks_for_one_step_per_request() -> None:
    assert SteppedClock(0.0, step=2.5).on_request() == 2.5


def test_clock_real_cannot_be_set() -> None:
    with pytest.raises(RuntimeError):
        make_clock("real").set(0.0)


def test_clock_unknown_mode_is_an_error() -> None:
    with pytest.raises(ValueError, match="sideways"):
        make_clock("sideways")


def test_scheduler_runs_due_events_in_time_order_at_their_due_time() -> None:
    clock = VirtualClock(0.0)
    scheduler = Scheduler(clock)
    ran: list[tuple[str, float, float]] = []
    scheduler.on("x", lambda ref, due: ran.append((ref, due, clock.now())))
    for due, ref in [(5.0, "b"), (1.0, "a"), (9.0, "c"), (20.0, "late")]:
        scheduler.add(due, "x", ref)
    asyncio.run(scheduler.run_until(10.0))
    assert ran == [("a", 1.0, 1.0), ("b", 5.0, 5.0), ("c", 9.0, 9.0)]
    assert clock.now() == 10.0 and len(scheduler) == 1


def test_scheduler_runs_events_added_by_events_within_the_window() -> None:
    clock = VirtualClock(0.0)
    scheduler = Scheduler(clock)
    ran: list[float] = []

    def chain(ref: str, due: float) -> None:
        ran.append(due)
        if due < 7:
            scheduler.add(due + 2, "x", ref)

    scheduler.on("x", chain)
    scheduler.add(1.0, "x", "r")
    asyncio.run(scheduler.run_until(100.0))
    assert ran == [1.0, 3.0, 5.0, 7.0]
