"""The replica (service/replica.py): one process's caches kept true to a shared store."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

from mock_server.service.fake import Fake
from tests.conftest import BODY, KEY


def pair(make_fake: Callable[..., Fake], tmp_path: Path) -> tuple[Fake, Fake]:
    """Two processes' fakes on one SQLite file."""
    db = str(tmp_path / "state.db")
    return make_fake(db=db), make_fake(db=db)


def test_replica_sync_sees_keys_another_process_put(
    make_fake: Callable[..., Fake], tmp_path: Path
) -> None:
    one, two = pair(make_fake, tmp_path)
    one.put_keys({"sk-late": {"credits": "3"}})
    assert not two.accounts.known("sk-late")
    two.replica.sync()
    assert two.accounts.known("sk-late")


def test_replica_sync_refreshes_a_cached_task_another_process_ended(
    make_fake: Callable[..., Fake], tmp_path: Path
) -> None:
    one, two = pair(make_fake, tmp_path)
    task = one.create_task(KEY, BODY)
    two.replica.sync()
    two.task_json(two.get_task(KEY, task.id))  # cached, with its answer
    one.force(task.id, "failed", code="service_error")
    two.replica.sync()
    assert b'"failed"' in two.task_json(two.get_task(KEY, task.id))


def test_replica_create_moves_nothing_other_processes_read(
    make_fake: Callable[..., Fake], tmp_path: Path
) -> None:
    one, two = pair(make_fake, tmp_path)
    before = two.store.state().rev
    one.create_task(KEY, BODY)
    assert two.store.state().rev == before  # no shared counter: creates never queue


def test_replica_task_another_process_created_is_read_on_its_first_poll(
    make_fake: Callable[..., Fake], tmp_path: Path
) -> None:
    one, two = pair(make_fake, tmp_path)
    task = one.create_task(KEY, BODY)
    two.replica.sync()
    assert two.get_task(KEY, task.id).id == task.id


def test_replica_advance_settles_a_task_another_process_created(
    make_fake: Callable[..., Fake], tmp_path: Path
) -> None:
    one, two = pair(make_fake, tmp_path)
    task = one.create_task(KEY, BODY)
    asyncio.run(two.advance(task.plan.finish - two.now() + 1))  # ``two`` settles it
    assert one.control_task(task.id).settled


def test_replica_balance_bills_a_task_another_process_created(
    make_fake: Callable[..., Fake], tmp_path: Path
) -> None:
    one, two = pair(make_fake, tmp_path)
    task = one.create_task(KEY, BODY)
    two.store.move_clock(task.plan.finish + 1)  # time passed; ``one`` is busy elsewhere
    two.replica.sync(exact=True)
    assert two.balance(KEY).reserved == 0
    assert one.control_task(task.id).settled


def test_replica_sync_after_another_process_reset_forgets_everything(
    make_fake: Callable[..., Fake], tmp_path: Path
) -> None:
    one, two = pair(make_fake, tmp_path)
    task = one.create_task(KEY, BODY)
    two.replica.sync()
    two.tasks.find(task.id)
    one.reset()
    two.replica.sync()
    assert two.tasks.find(task.id) is None
    assert two.accounts.known(KEY)  # the configured key is back


def test_replica_changes_move_with_every_write(fake: Fake) -> None:
    before = fake.replica.changes()
    fake.create_task(KEY, BODY)
    assert fake.replica.changes() > before


def test_replica_housekeeping_queues_what_another_process_left_unsettled(
    make_fake: Callable[..., Fake], tmp_path: Path
) -> None:
    one, two = pair(make_fake, tmp_path)
    task = one.create_task(KEY, BODY)
    one.store.move_clock(task.plan.finish + 1)  # and ``one`` stops before settling it
    two.replica.sync(exact=True)
    assert two.time.next_due() is None
    asyncio.run(two.housekeeping())
    assert two.time.next_due() == task.plan.finish


def test_replica_stepped_request_settles_a_task_another_process_created(
    make_fake: Callable[..., Fake], tmp_path: Path
) -> None:
    db = str(tmp_path / "state.db")
    one, two = (make_fake(db=db, clock="stepped", step=3600.0) for _ in "12")
    task = one.create_task(KEY, BODY)
    asyncio.run(two.time.on_request())  # a request to ``two``: the clock steps an hour
    assert one.control_task(task.id).settled
