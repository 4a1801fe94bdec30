"""Bounded memory: caches bounded by size, not history (docs/control-api.md "Control API")."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from mock_server.service.cache import PollTimes
from mock_server.service.fake import Fake
from mock_server.service.settling import SETTLE
from tests.conftest import BODY, KEY, Api

MANY = {KEY: {"credits": "1000000"}}


def test_cache_oldest_and_newest_tasks_answer_polls_past_its_size(
    make_api: Callable[..., Api],
) -> None:
    api = make_api(cache_tasks=3)
    api.fake.put_keys(MANY)
    ids = [api.created()["id"] for _ in range(8)]
    assert len(api.fake.tasks.cache) == 3
    api.advance(3600)
    for task_id in (ids[0], ids[-1]):
        answer = api.status(task_id)
        assert (answer["id"], answer["status"]) == (task_id, "completed")
        assert answer["results"]


def test_cache_task_pushed_out_then_forced_answers_its_outcome(
    make_api: Callable[..., Api],
) -> None:
    api = make_api(cache_tasks=2)
    api.fake.put_keys(MANY)
    first = api.created()["id"]
    for _ in range(4):
        api.created()
    assert api.fake.tasks.cache.get(first) is None
    forced = api.control("POST", f"/tasks/{first}/fail", json={"code": "generation_timeout"})
    assert forced.status_code == 200
    answer = api.status(first)
    assert answer["status"] == "failed"
    assert answer["error"]["code"] == "generation_timeout"


def test_settle_window_holds_a_bounded_number_of_settle_events(fake: Fake) -> None:
    fake.put_keys(MANY)
    fake.settling.size = 4
    fake.settling.load()
    for _ in range(30):
        fake.create_task(KEY, BODY)
    assert fake.scheduler.count(SETTLE) <= 2 * fake.settling.size


def test_settle_window_settles_every_task_past_its_size(fake: Fake) -> None:
    fake.put_keys(MANY)
    fake.settling.size = 4
    fake.settling.load()
    ids = [fake.create_task(KEY, BODY).id for _ in range(30)]
    asyncio.run(fake.advance(3600))
    assert all(fake.store.get_task(i).settled for i in ids)  # type: ignore[union-attr]
    assert fake.scheduler.count(SETTLE) == 0


def test_settle_window_after_restart_settles_tasks_beyond_it(fake: Fake) -> None:
    fake.put_keys(MANY)
    ids = [fake.create_task(KEY, BODY).id for _ in range(12)]
    fake.settling.size = 5
    fake.scheduler.clear()
    fake.settling.load()  # as at a start with tasks already stored
    assert fake.scheduler.count(SETTLE) == 5
    asyncio.run(fake.advance(3600))
    assert all(fake.store.get_task(i).settled for i in ids)  # type: ignore[union-attr]


def test_poll_times_keep_at_most_size_paths() -> None:
    times = PollTimes(2)
    times.seen("/a", 1.0)
    times.seen("/b", 2.0)
    assert times.seen("/a", 3.0) == 1.0  # /a polled again: now the newest
    times.seen("/c", 4.0)
    assert list(times) == ["/a", "/c"]
