"""A task's state as a pure function of its plan and the clock."""

from __future__ import annotations

import random

from hypothesis import given
from hypothesis import strategies as st

from mock_server.domain import lifecycle
from mock_server.domain.catalog import MODELS, TIMING_PROFILES
from mock_server.domain.models import STATUS_ORDER, Plan
from mock_server.domain.shapes import parse_points

PLAN = Plan(created=1000.0, start=1030.0, finish=1150.0)


def test_lifecycle_is_pending_until_start() -> None:
    assert lifecycle.observe(PLAN, 1029.9) == lifecycle.Observation("pending", 0)


def test_lifecycle_is_processing_between_start_and_finish() -> None:
    seen = lifecycle.observe(PLAN, 1090.0)
    assert seen.status == "processing" and 1 <= seen.progress <= 99


def test_lifecycle_completes_at_finish_with_progress_100() -> None:
    assert lifecycle.observe(PLAN, 1150.0) == lifecycle.Observation("completed", 100)


def test_lifecycle_forced_failure_keeps_the_progress_it_had() -> None:
    before = lifecycle.observe(PLAN, 1100.0)
    ended = lifecycle.end_now(PLAN, 1100.0, "failed", "service_error", "boom", "control")
    assert lifecycle.observe(ended, 1100.0) == lifecycle.Observation("failed", before.progress)


def test_lifecycle_forced_outcome_on_a_pending_task_skips_processing() -> None:
    ended = lifecycle.end_now(PLAN, 1010.0, "completed", None, None, "control")
    assert [h["status"] for h in lifecycle.history(ended, 1010.0)] == ["pending", "completed"]


def test_lifecycle_terminal_task_ignores_later_forced_outcomes() -> None:
    assert lifecycle.end_now(PLAN, 2000.0, "failed", "x", "y", "control") is PLAN


def test_lifecycle_history_lists_only_what_has_happened() -> None:
    assert [h["status"] for h in lifecycle.history(PLAN, 1031.0)] == ["pending", "processing"]


def test_lifecycle_realistic_estimate_matches_the_documented_example() -> None:
    estimate = lifecycle.estimated_seconds(
        MODELS["wan2.6-reference-video"], "720p", 5, TIMING_PROFILES["realistic"]
    )
    assert lifecycle.estimated_time(estimate) == 120


def test_lifecycle_draw_plan_is_reproducible_from_the_seed() -> None:
    timing = TIMING_PROFILES["realistic"]
    first = lifecycle.draw_plan(random.Random("7:0"), 0.0, 120.0, timing)
    assert first == lifecycle.draw_plan(random.Random("7:0"), 0.0, 120.0, timing)


def test_lifecycle_fast_profile_finishes_within_seconds() -> None:
    timing = TIMING_PROFILES["fast"]
    estimate = lifecycle.estimated_seconds(MODELS["wan2.6-reference-video"], "1080p", 10, timing)
    plan = lifecycle.draw_plan(random.Random(1), 0.0, estimate, timing)
    assert plan.finish < 15


point_lists = st.lists(st.tuples(st.floats(0, 1), st.integers(0, 99)), max_size=5).map(
    lambda points: parse_points([list(p) for p in points]) if points else ()
)
plans = st.builds(
    lambda created, queue, run, curve, fail, points, estimate: Plan(
        created=created,
        start=created + queue,
        finish=created + queue + run,
        curve=curve,
        outcome="failed" if fail else "completed",
        fail_progress=37 if fail else 0,
        points=points,
        estimate=estimate,
    ),
    st.floats(0, 2e9),
    st.floats(0, 100),
    st.floats(0, 600),
    st.sampled_from([1.0, 1.5, 2.0]),
    st.booleans(),
    point_lists,
    st.none() | st.integers(0, 100),
)
advances = st.lists(st.floats(0, 300), max_size=30)
forcing = st.one_of(
    st.none(), st.tuples(st.integers(0, 29), st.sampled_from(["completed", "failed"]))
)


@given(plans, advances, forcing)
def test_lifecycle_status_and_progress_never_go_backwards(
    plan: Plan, steps: list[float], force: tuple[int, str] | None
) -> None:
    now = plan.created
    last = lifecycle.observe(plan, now)
    for index, step in enumerate(steps):
        now += step
        if force is not None and index == force[0]:
            plan = lifecycle.end_now(plan, now, force[1], "service_error", "x", "test")  # type: ignore[arg-type]
        seen = lifecycle.observe(plan, now)
        assert STATUS_ORDER[seen.status] >= STATUS_ORDER[last.status]
        if last.status in ("completed", "failed"):
            assert seen == last
        if seen.status != "failed":
            assert seen.progress >= last.progress
        last = seen


def test_lifecycle_estimated_time_counts_down_from_the_estimate() -> None:
    assert [lifecycle.observe(PLAN, t, 120).remaining for t in (1000.0, 1030.5, 1119.0)] == [
        120,
        90,
        1,
    ]


def test_lifecycle_estimated_time_is_zero_once_ended() -> None:
    assert lifecycle.observe(PLAN, 1150.0, 120).remaining == 0


def test_lifecycle_estimated_time_never_goes_negative_while_running_late() -> None:
    assert lifecycle.observe(PLAN, 1140.0, 60).remaining == 0


def test_lifecycle_shaped_plan_takes_the_scenario_timings() -> None:
    plan = lifecycle.shaped(PLAN, queue_seconds=5, processing_seconds=300)
    assert (plan.start, plan.finish) == (1005.0, 1305.0)


def test_lifecycle_shaped_failure_keeps_the_progress_reached() -> None:
    plan = lifecycle.shaped(PLAN, outcome="failed", code="service_error", message="x")
    assert lifecycle.observe(plan, plan.finish) == lifecycle.Observation("failed", 99)


def test_lifecycle_shaped_instant_failure_shows_no_progress() -> None:
    plan = lifecycle.shaped(PLAN, queue_seconds=0, processing_seconds=0, outcome="failed")
    assert lifecycle.observe(plan, PLAN.created) == lifecycle.Observation("failed", 0)


STALLED = lifecycle.shaped(PLAN, points=parse_points([[0, 0], [0.5, 0], [0.6, 80], [0.9, 95]]))


def test_lifecycle_points_hold_progress_at_zero_while_processing() -> None:
    assert lifecycle.observe(STALLED, 1031.0) == lifecycle.Observation("processing", 0, 0)
    assert lifecycle.observe(STALLED, 1089.0).progress == 0


def test_lifecycle_points_jump_then_plateau() -> None:
    assert [lifecycle.observe(STALLED, t).progress for t in (1102.0, 1130.0, 1140.0)] == [
        80,
        80,
        95,
    ]


def test_lifecycle_points_never_fall_even_when_written_falling() -> None:
    assert parse_points([[0.5, 50], [0.2, 70], [0.9, 10]]) == ((0.2, 70), (0.5, 70), (0.9, 70))


def test_lifecycle_scenario_estimate_is_outlasted_by_processing() -> None:
    plan = lifecycle.shaped(PLAN, estimate=10)
    assert lifecycle.observe(plan, 1000.0, 120).remaining == 10
    assert lifecycle.observe(plan, 1100.0, 120) == lifecycle.Observation("processing", 81, 0)


def test_lifecycle_plan_with_points_survives_its_json() -> None:
    assert Plan.from_json(STALLED.to_json()) == STALLED
