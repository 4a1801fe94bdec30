"""A SQLite store on a disk that fills up: writes answer 503 with Retry-After in the
envelope of the route's service, reads keep working, nothing stored is lost, one log
line marks the fault and one its end, and the fake recovers by itself when space
returns. The disk is real: a small tmpfs mounted for the test (root only, as CI runs)."""

from __future__ import annotations

import contextlib
import logging
import os
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import AUTH, BODY, Api
from tests.server import ServerProcess
from tests.test_process_faults import until

# A 1x1 PNG: a file the file service accepts.
PNG = (
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk"
    "YPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=="
)


class Disk:
    """A tmpfs of a few megabytes; ``fill`` takes every free byte, ``free`` gives them back."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.filler = path / "filler"

    def fill(self) -> None:
        fd = os.open(self.filler, os.O_WRONLY | os.O_CREAT | os.O_APPEND)
        try:
            for block in (65536, 512, 1):
                with contextlib.suppress(OSError):
                    while True:
                        os.write(fd, b"\0" * block)
        finally:
            os.close(fd)

    def free(self) -> None:
        self.filler.unlink()


@pytest.fixture
def disk(tmp_path: Path) -> Iterator[Disk]:
    mount = tmp_path / "disk"
    mount.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(mount)], capture_output=True
    )
    if done.returncode != 0:
        if os.environ.get("CI"):
            pytest.fail(f"cannot mount a tmpfs: {done.stderr.decode()}")
        pytest.skip("mounting a tmpfs needs root")
    try:
        yield Disk(mount)
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=True)


@pytest.fixture
def full(disk: Disk, make_api: Callable[..., Api], tmp_path: Path) -> tuple[Api, Disk, Any]:
    """A fake whose store is on ``disk``, one task acknowledged, then the disk full."""
    api = make_api(db=str(disk.path / "wanmock.db"), media_dir=str(tmp_path / "media"))
    task = api.created()
    disk.fill()
    return api, disk, task


def upload(api: Api) -> Any:
    return api.client.post("/api/v1/files/upload/base64", json={"base64_data": PNG}, headers=AUTH)


def test_store_faults_a_write_on_a_full_disk_answers_503_with_retry_after(
    full: tuple[Api, Disk, Any],
) -> None:
    api, _, _ = full
    answer = api.create()
    assert answer.status_code == 503
    assert int(answer.headers["retry-after"]) >= 1
    error = answer.json()["error"]
    assert (error["code"], error["type"]) == (503, "service_unavailable_error")


def test_store_faults_the_file_service_answers_503_in_its_own_envelope(
    full: tuple[Api, Disk, Any],
) -> None:
    api, _, _ = full
    answer = upload(api)
    assert answer.status_code == 503
    assert "retry-after" in answer.headers
    assert answer.json() | {"msg": ""} == {"success": False, "code": 503, "msg": ""}


def test_store_faults_a_control_write_answers_503(full: tuple[Api, Disk, Any]) -> None:
    api, _, task = full
    answer = api.control("POST", f"/tasks/{task['id']}/complete")
    assert answer.status_code == 503
    assert answer.json()["error"]["type"] == "service_unavailable_error"


def test_store_faults_reads_keep_working_on_a_full_disk(full: tuple[Api, Disk, Any]) -> None:
    api, _, task = full
    api.create()
    assert api.status(task["id"]) == task
    assert api.client.get("/v1/credits", headers=AUTH).status_code == 200
    assert api.control("GET", "/tasks").json()["tasks"][0]["task"]["id"] == task["id"]
    assert api.control("GET", "/ledger").status_code == 200
    assert api.client.get("/api/v1/files/list", headers=AUTH).status_code == 200


def test_store_faults_log_one_line_when_a_fault_starts_and_one_when_it_ends(
    full: tuple[Api, Disk, Any], caplog: pytest.LogCaptureFixture
) -> None:
    api, disk, _ = full
    with caplog.at_level(logging.WARNING, logger="wanmock"):
        for _ in range(5):
            api.create()
        upload(api)
        disk.free()
        api.created()
        api.created()
    lines = [r.getMessage() for r in caplog.records]
    assert len(lines) == 2, lines
    assert "unavailable" in lines[0]
    assert "recovered" in lines[1]


def test_store_faults_the_fake_recovers_when_space_returns_and_lost_nothing(
    full: tuple[Api, Disk, Any],
) -> None:
    api, disk, task = full
    for _ in range(3):
        assert api.create().status_code == 503
    disk.free()
    second = api.created()
    assert upload(api).status_code == 200
    assert api.status(task["id"]) == task
    listed = {t["task"]["id"] for t in api.control("GET", "/tasks").json()["tasks"]}
    assert listed == {task["id"], second["id"]}
    assert api.balance()["reserved"] == "95.2"  # the two acknowledged tasks, no more


def test_store_faults_a_replica_whose_database_goes_away_answers_503_then_recovers(
    gone_database: tuple[str, Callable[[bool], None]],
    make_api: Callable[..., Api],
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    url, switch = gone_database
    api = make_api(db=url, media_dir=str(tmp_path / "media"))
    task = api.created()
    with caplog.at_level(logging.WARNING):
        switch(False)
        answer = api.create()
        assert answer.status_code == 503
        assert "retry-after" in answer.headers
        assert answer.json()["error"]["type"] == "service_unavailable_error"
        switch(True)
        second = api.created()
    lines = [r.getMessage() for r in caplog.records]
    assert len(lines) == 2, lines
    assert lines[0].startswith(f"store {api.fake.store.path} unavailable")
    assert lines[1] == f"store {api.fake.store.path} recovered"
    assert api.status(task["id"]) == task
    assert api.status(second["id"]) == second
    assert api.balance()["reserved"] == "95.2"


def test_store_faults_a_serving_fake_settles_what_fell_due_during_the_fault(
    disk: Disk, tmp_path: Path
) -> None:
    """A real process on the real clock: a task that ends while the disk is full reads
    completed at once, and its charge is written once space returns, exactly once."""
    media = str(tmp_path / "media")
    server = ServerProcess(
        ["--db", str(disk.path / "wanmock.db"), "--profile", "fast", "--media-dir", media]
    )
    try:
        task = server.client.post("/v1/videos/generations", json=BODY, headers=AUTH).json()
        disk.fill()

        def status() -> str:
            answer = server.client.get(f"/v1/tasks/{task['id']}", headers=AUTH)
            assert answer.status_code == 200, answer.text  # reads keep working
            return str(answer.json()["status"])

        until(lambda: status() == "completed")
        until(lambda: "unavailable" in server.stderr())  # the charge could not be written
        disk.free()

        def kinds() -> list[str]:
            entries = server.client.get("/_mock/ledger").json()["entries"]
            return [e["kind"] for e in entries if e["task_id"] == task["id"]]

        until(lambda: "charge" in kinds())
        assert sorted(kinds()) == ["charge", "release", "reserve"]
        lines = server.stderr().splitlines()
    finally:
        server.stop()
    assert len(lines) == 2 and "recovered" in lines[1], lines
