"""Tasks (service/tasks.py): create, find, and the poll's answer cache."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import orjson
import pytest

from mock_server.domain.errors import ApiError
from mock_server.service.fake import Fake
from tests.conftest import BODY, KEY


def test_tasks_poll_answers_the_same_bytes_while_nothing_moves(fake: Fake) -> None:
    task = fake.tasks.create(KEY, BODY)
    first = fake.tasks.poll(KEY, task.id)
    assert fake.tasks.poll(KEY, task.id) is first


def test_tasks_poll_answers_anew_once_the_task_moves(fake: Fake) -> None:
    task = fake.tasks.create(KEY, BODY)
    before = orjson.loads(fake.tasks.poll(KEY, task.id))
    asyncio.run(fake.advance(task.plan.finish - fake.now()))
    after = orjson.loads(fake.tasks.poll(KEY, task.id))
    assert (before["status"], after["status"]) == ("pending", "completed")


def test_tasks_poll_of_another_keys_task_is_404(fake: Fake) -> None:
    fake.put_keys({"sk-other": {"credits": "100"}})
    task = fake.tasks.create(KEY, BODY)
    with pytest.raises(ApiError) as refused:
        fake.tasks.poll("sk-other", task.id)
    assert refused.value.status == 404


def test_tasks_poll_of_a_malformed_id_is_400(fake: Fake) -> None:
    with pytest.raises(ApiError) as refused:
        fake.tasks.poll(KEY, "not-a-task")
    assert refused.value.status == 400


def test_tasks_find_reads_through_to_the_store_past_the_cache(
    make_fake: Callable[..., Fake],
) -> None:
    fake = make_fake(cache_tasks=1)
    first = fake.tasks.create(KEY, BODY)
    fake.tasks.create(KEY, BODY)
    assert fake.tasks.cache.get(first.id) is None
    found = fake.tasks.find(first.id)
    assert found is not None and found.id == first.id


def test_tasks_create_short_of_credits_is_402_and_stores_nothing(fake: Fake) -> None:
    fake.put_keys({KEY: {"credits": "0"}})
    with pytest.raises(ApiError) as refused:
        fake.tasks.create(KEY, BODY)
    assert refused.value.status == 402 and fake.tasks.count() == 0


def test_tasks_submit_answers_what_a_poll_would(fake: Fake) -> None:
    task, answer = asyncio.run(fake.tasks.submit(KEY, BODY))
    assert answer == fake.tasks.poll(KEY, task.id)


def test_tasks_same_seed_draws_the_same_ids(make_fake: Callable[..., Fake]) -> None:
    one, two = make_fake(seed=7), make_fake(seed=7)
    assert one.tasks.create(KEY, BODY).id == two.tasks.create(KEY, BODY).id
