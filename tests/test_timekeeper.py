"""Time (service/timekeeper.py): advancing, settling an ended task once, forcing one."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

import pytest

from mock_server.domain.errors import ApiError
from mock_server.service.fake import Fake
from tests.conftest import BODY, KEY


def charges(fake: Fake) -> int:
    return sum(e.kind == "charge" for e in fake.accounts.ledger_entries(KEY))


def test_timekeeper_advance_settles_tasks_that_end_on_the_way(fake: Fake) -> None:
    task = fake.create_task(KEY, BODY)
    asyncio.run(fake.time.advance(task.plan.finish - fake.now() + 1))
    assert fake.control_task(task.id).settled
    assert fake.accounts.balance(KEY).reserved == 0


def test_timekeeper_advance_on_the_real_clock_is_409(make_fake: Callable[..., Fake]) -> None:
    fake = make_fake(clock="real")
    with pytest.raises(ApiError) as refused:
        asyncio.run(fake.time.advance(1))
    assert refused.value.status == 409


def test_timekeeper_settle_bills_a_task_once(fake: Fake) -> None:
    task = fake.create_task(KEY, BODY)
    fake.clock.set(task.plan.finish)
    fake.time.settle(task.id, task.plan.finish)
    fake.time.settle(task.id, task.plan.finish)
    assert charges(fake) == 1


def test_timekeeper_settle_leaves_a_task_not_ended_yet(fake: Fake) -> None:
    task = fake.create_task(KEY, BODY)
    fake.time.settle(task.id, task.plan.finish - 1)
    assert not fake.control_task(task.id).settled


def test_timekeeper_settle_made_by_another_process_is_not_made_again(
    make_fake: Callable[..., Fake], tmp_path: Path
) -> None:
    db = str(tmp_path / "state.db")
    one, two = make_fake(db=db), make_fake(db=db)
    task = one.create_task(KEY, BODY)
    two.replica.sync()
    one.time.settle(task.id, task.plan.finish)
    two.time.settle(task.id, task.plan.finish)
    assert charges(two) == 1


def test_timekeeper_force_ends_a_running_task_now(fake: Fake) -> None:
    task = fake.create_task(KEY, BODY)
    ended = fake.time.force(task.id, "failed", code="service_error", message="stopped")
    assert ended.plan.outcome == "failed" and ended.plan.finish == fake.now()
    assert fake.tasks.observe(ended).status == "failed"


def test_timekeeper_force_leaves_an_ended_task_as_it_is(fake: Fake) -> None:
    task = fake.time.force(fake.create_task(KEY, BODY).id, "completed")
    assert fake.time.force(task.id, "failed", code="service_error") == task


def test_timekeeper_end_of_an_unknown_task_is_404(fake: Fake) -> None:
    with pytest.raises(ApiError) as refused:
        asyncio.run(fake.time.end("task-unified-1-nothere0", "completed"))
    assert refused.value.status == 404


def test_timekeeper_latency_is_none_without_the_setting(fake: Fake) -> None:
    assert fake.time.latency() == 0.0


def test_timekeeper_latency_is_seeded_and_within_its_range(
    make_fake: Callable[..., Fake],
) -> None:
    one, two = (make_fake(latency=(0.01, 0.05), seed=3) for _ in range(2))
    drawn = [one.time.latency() for _ in range(20)]
    assert drawn == [two.time.latency() for _ in range(20)]
    assert all(0.01 <= d <= 0.05 for d in drawn) and len(set(drawn)) > 1
