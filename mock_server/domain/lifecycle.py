"""A task's observable state as a pure function of its plan and the clock.

Nothing flips a status in the background (docs/ARCHITECTURE.md "Time"): a poll computes
``observe(plan, now)``. Because ``start``/``finish`` only ever move to the past when an
outcome is forced, and the clock never runs backwards, status and progress never go
backwards either (tests/test_lifecycle.py proves it over random advances).
"""

from __future__ import annotations

import math
import random
from dataclasses import replace
from typing import NamedTuple

from mock_server.domain.catalog import ModelProfile, TimingProfile
from mock_server.domain.models import Outcome, Plan, Status
from mock_server.domain.shapes import stepped_progress


class Observation(NamedTuple):
    """What a poll shows; a tuple because every poll makes one and compares it."""

    status: Status
    progress: int
    remaining: int = 0


def processing_progress(plan: Plan, now: float) -> int:
    """1..99 while processing, rising along an ease-out curve; or, when the plan has
    ``points``, 0..99 in their steps."""
    span = plan.finish - plan.start
    fraction = 1.0 if span <= 0 else min(1.0, max(0.0, (now - plan.start) / span))
    if plan.points:
        return stepped_progress(plan.points, fraction)
    eased = 1.0 - (1.0 - fraction) ** plan.curve
    return 1 + min(98, int(eased * 98))


def observe(plan: Plan, now: float, estimate: int = 0) -> Observation:
    """Status and progress at ``now``; ``remaining`` counts ``estimate`` down from creation.

    EvoLink's own clients read ``task_info.estimated_time`` as seconds remaining
    (SOURCES.md "Task object"), and the create example shows the whole estimate, so it
    starts there, falls with time and is 0 once the task has ended.
    """
    if now >= plan.finish:
        if plan.outcome == "completed":
            return Observation("completed", 100)
        return Observation("failed", plan.fail_progress)
    if plan.estimate is not None:
        estimate = plan.estimate
    remaining = max(0, math.ceil(plan.created + estimate - now))
    if now < plan.start:
        return Observation("pending", 0, remaining)
    return Observation("processing", processing_progress(plan, now), remaining)


def history(plan: Plan, now: float) -> list[dict[str, object]]:
    """The transitions that have happened by ``now``, oldest first."""
    steps: list[tuple[float, str]] = [(plan.created, "pending")]
    if plan.start < plan.finish:
        steps.append((plan.start, "processing"))
    steps.append((plan.finish, plan.outcome))
    return [{"at": at, "status": status} for at, status in steps if at <= now]


def estimated_seconds(
    model: ModelProfile, quality: str, duration: int, timing: TimingProfile
) -> float:
    return model.seconds_per_output_second[quality] * duration / timing.speedup


def draw_plan(rng: random.Random, created: float, estimate: float, timing: TimingProfile) -> Plan:
    """A completed-by-default plan with timings drawn from ``rng`` (seeded: reproducible)."""
    queue = rng.uniform(*timing.queue_seconds) / timing.speedup
    processing = estimate * rng.uniform(*timing.processing_jitter)
    start = created + queue
    return Plan(
        created=created, start=start, finish=start + processing, curve=rng.choice((1.0, 1.5, 2.0))
    )


def estimated_time(estimate: float) -> int:
    """``task_info.estimated_time`` is a whole number of seconds >= 0 (SOURCES.md)."""
    return max(1, math.ceil(estimate))


def end_now(
    plan: Plan, now: float, outcome: Outcome, code: str | None, message: str | None, forced: str
) -> Plan:
    """The plan cut short: from ``now`` on the task shows ``outcome``.

    A task already terminal keeps its plan, so a forced outcome can never rewrite a
    result a client may already have seen.
    """
    seen = observe(plan, now)
    if seen.status in ("completed", "failed"):
        return plan
    return plan.ended_at(now, outcome, code, message, forced, seen.progress)


def shaped(
    plan: Plan,
    *,
    queue_seconds: float | None = None,
    processing_seconds: float | None = None,
    curve: float | None = None,
    outcome: Outcome | None = None,
    code: str | None = None,
    message: str | None = None,
    results: int | None = None,
    points: tuple[tuple[float, int], ...] | None = None,
    estimate: int | None = None,
) -> Plan:
    """A drawn plan with a scenario's overrides: timings, curve, outcome, result count.

    A failure happens at the end of processing and keeps the progress reached there,
    so a failing task also never shows its progress fall.
    """
    start = plan.created + queue_seconds if queue_seconds is not None else plan.start
    run = processing_seconds if processing_seconds is not None else plan.finish - plan.start
    new = replace(
        plan,
        start=start,
        finish=start + run,
        curve=curve or plan.curve,
        forced="scenario",
        results=results or plan.results,
        points=points if points is not None else plan.points,
        estimate=estimate if estimate is not None else plan.estimate,
    )
    if outcome == "failed":
        reached = processing_progress(new, new.finish) if run > 0 else 0
        return replace(
            new, outcome="failed", error_code=code, error_message=message, fail_progress=reached
        )
    return new
