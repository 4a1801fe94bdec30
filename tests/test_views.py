"""The dashboard's read operations (mock_server/service/views.py)."""

from __future__ import annotations

from collections.abc import Callable

from mock_server.domain.models import Task
from mock_server.service import views
from mock_server.service.views import retries_to_come
from mock_server.testing.receiver import Receiver, Script
from tests.conftest import Api


def stored(api: Api, task_id: str) -> Task:
    task = api.fake.store.get_task(task_id)
    assert task is not None
    return task


def test_retries_to_come_after_a_first_failure() -> None:
    assert retries_to_come(1, 101.0) == [101.0, 103.0, 107.0]


def test_retries_to_come_none_once_delivered_or_exhausted() -> None:
    assert retries_to_come(4, None) == []


def test_retries_to_come_before_the_first_attempt() -> None:
    assert retries_to_come(0, 50.0) == [50.0, 51.0, 53.0, 57.0]


def test_task_row_charge_once_completed(api: Api) -> None:
    task = api.created()
    row = views.task_row(api.fake, stored(api, task["id"]))
    assert row["charge"] is None and row["status"] == "pending"
    api.advance(600)
    row = views.task_row(api.fake, stored(api, task["id"]))
    assert row["status"] == "completed" and row["charge"] == row["reserved"]
    assert row["results"] and row["results"][0].startswith(api.fake.config.base_url)


def test_task_row_failed_is_not_charged(api: Api) -> None:
    task = api.created()
    api.control("POST", f"/tasks/{task['id']}/fail", json={"code": "generation_timeout"})
    row = views.task_row(api.fake, stored(api, task["id"]))
    assert row["status"] == "failed" and row["error_code"] == "generation_timeout"
    assert row["charge"] is None


def test_store_versions_move_only_when_something_changes(api: Api) -> None:
    before = views.store_versions(api.fake, None, None)
    assert views.store_versions(api.fake, None, None) == before
    api.created()
    created = views.store_versions(api.fake, None, None)
    assert created["tasks"] != before["tasks"] and created["scenarios"] == before["scenarios"]
    api.advance(600)
    done = views.store_versions(api.fake, None, None)
    assert done["tasks"] != created["tasks"]
    assert views.store_versions(api.fake, None, None) == done


def test_store_versions_journal_moves_when_a_batch_lands(api: Api) -> None:
    api.created()
    before = views.store_versions(api.fake, None, None)["journal"]
    api.fake.journal.flush()
    assert views.store_versions(api.fake, None, None)["journal"] != before


def test_unfinished_lists_running_tasks_only(api: Api) -> None:
    one, two = api.created(), api.created()
    api.control("POST", f"/tasks/{one['id']}/complete")
    assert views.unfinished(api.fake) == [two["id"]]


def test_callbacks_show_attempts_and_retries_to_come(
    make_api: Callable[..., Api],
) -> None:
    with Receiver(Script.always_fail(status=500)) as receiver:
        api = make_api(
            allow_callback_host=("127.0.0.1",),
            callback_ca_file=receiver.ca_file,
            callback_wall_timeout=0.3,
        )
        task = api.created(callback_url=receiver.url)
        api.control("POST", f"/tasks/{task['id']}/complete")
        (delivery,) = views.callbacks(api.fake)
        first = delivery["attempt_log"][0]
        assert delivery["state"] == "pending" and first["status"] == 500
        assert delivery["to_come"] == [
            first["finished_at"] + 1,
            first["finished_at"] + 3,
            first["finished_at"] + 7,
        ]
        html = api.client.get("/_mock/ui/state").json()["html"]["callbacks"]
        assert "HTTP 500" in html and "3 of 4 still to come" in html
