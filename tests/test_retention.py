"""Retention (``--retention DAYS``): old settled tasks go, ledger entries stay."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from mock_server.media.clips import ClipSpec
from mock_server.service import retention
from tests.conftest import KEY, Api
from tests.test_callbacks import closed_port

DAY = 86_400


def balanced(api: Api) -> bool:
    return all(
        b.granted == b.available + b.reserved + b.charged for b in api.fake.balances().values()
    )


def test_retention_purges_only_old_settled_tasks(make_api: Callable[..., Api]) -> None:
    api = make_api(retention=1.0)
    old = api.created()["id"]
    api.advance(2 * DAY)
    recent = api.created()["id"]
    api.control("POST", f"/tasks/{recent}/complete")
    running = api.created()["id"]
    charged_before = api.balance()

    purged = retention.purge(api.fake)

    assert purged.tasks == 1
    assert api.poll(old).status_code == 404
    assert api.poll(old).json()["error"]["type"] == "not_found_error"
    assert api.status(recent)["status"] == "completed"
    assert api.status(running)["status"] == "pending"
    assert api.balance() == charged_before
    assert balanced(api)
    kinds = [e.kind for e in api.fake.store.ledger_entries(KEY) if e.task_id == old]
    assert kinds == ["reserve", "release", "charge"]


def test_retention_off_purges_nothing(api: Api) -> None:
    task_id = api.created()["id"]
    api.advance(400 * DAY)
    assert retention.purge(api.fake).tasks == 0
    assert api.status(task_id)["status"] == "completed"


def test_retention_removes_the_tasks_journal_rows_and_callback_records(
    make_api: Callable[..., Api],
) -> None:
    api = make_api(retention=1.0, allow_callback_host=("127.0.0.1",))
    old = api.created(callback_url=f"https://127.0.0.1:{closed_port()}/hook")["id"]
    api.poll(old)
    api.advance(2 * DAY)
    kept = api.created()["id"]
    assert api.control("GET", "/callbacks", params={"task_id": old}).json()["attempts"]

    purged = retention.purge(api.fake)

    assert purged.journal_rows == 2  # its create and its poll
    assert api.control("GET", "/requests", params={"task_id": old}).json()["requests"] == []
    assert [e["task_id"] for e in api.control("GET", "/requests").json()["requests"]] == [kept]
    callbacks = api.control("GET", "/callbacks", params={"task_id": old}).json()
    assert (callbacks["callbacks"], callbacks["attempts"]) == ([], [])


def test_retention_deletes_rendered_results_no_task_uses(
    make_api: Callable[..., Api], tmp_path: Path
) -> None:
    api = make_api(retention=1.0, media_dir=str(tmp_path))
    api.created(quality="1080p", duration=4)
    api.advance(2 * DAY)
    api.created(duration=3)  # 720p 16:9, 3 s, with sound: its file stays
    renders = api.fake.media.renders.directory
    renders.mkdir(parents=True, exist_ok=True)
    used = renders / ClipSpec(1280, 720, 3).file_name
    unused = renders / ClipSpec(1920, 1080, 4).file_name
    for path in (used, unused):
        path.write_bytes(b"mp4")

    purged = retention.purge(api.fake)

    assert purged.files == [unused.name]
    assert used.exists() and not unused.exists()
