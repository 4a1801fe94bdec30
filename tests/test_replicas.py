"""Replicas behind one address (docs/deployment.md "Running a shared instance"): ``wanmock serve``
processes on different ports sharing one PostgreSQL database deliver every callback on
its 1/2/4 s schedule, each attempt made by one replica, and finish the schedules of a
replica killed with ``kill -9``. A ``--db`` the fake cannot use stops the start."""

from __future__ import annotations

import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from mock_server.testing.receiver import Receiver, Reply, Script
from tests.server import ServerProcess, running

KEY = "sk-wanmock-test"
AUTH = {"Authorization": f"Bearer {KEY}"}
BODY = {
    "model": "wan2.6-reference-video",
    "prompt": "A person dancing",
    "video_urls": ["https://example.com/ref.mp4"],
}
TASKS = 6


@pytest.fixture(scope="module")
def receiver() -> Iterator[Receiver]:
    with Receiver() as started:
        yield started


@pytest.fixture
def replicas(
    receiver: Receiver, postgres_url: str
) -> Iterator[tuple[ServerProcess, ServerProcess]]:
    receiver.clear(Script.succeed())
    args = ["--clock", "virtual", "--api-key", f"{KEY}=100000"]
    args += ["--allow-callback-host", "127.0.0.1", "--callback-ca-file", receiver.ca_file]
    with running(*args, db=postgres_url) as first, running(*args, db=postgres_url) as second:
        yield first, second


def finished_tasks(pair: tuple[ServerProcess, ServerProcess], receiver: Receiver) -> list[str]:
    """TASKS tasks with callbacks, created and completed (now) on both replicas in turn:
    each completion makes the task's first attempt before it answers."""
    body = {**BODY, "callback_url": receiver.url}
    made = [
        pair[i % 2].client.post("/v1/videos/generations", json=body, headers=AUTH)
        for i in range(TASKS)
    ]
    assert [m.status_code for m in made] == [200] * TASKS
    ids = [m.json()["id"] for m in made]
    for i, task_id in enumerate(ids):
        pair[1 - i % 2].client.post(f"/_mock/tasks/{task_id}/complete")
    return ids


def attempts(server: ServerProcess, task_id: str) -> list[dict[str, Any]]:
    found = server.client.get("/_mock/callbacks", params={"task_id": task_id}).json()
    return sorted(found["attempts"], key=lambda a: a["number"])


def offsets(server: ServerProcess, task_id: str) -> list[float]:
    finish = server.client.get(f"/_mock/tasks/{task_id}").json()["plan"]["finish"]
    return [round(a["attempted_at"] - finish, 6) for a in attempts(server, task_id)]


def no_5xx(server: ServerProcess) -> None:
    """Every API answer either replica journaled was below 500 (the journal is shared)."""
    deadline = time.monotonic() + 5  # each replica writes its journal every 0.05 s
    statuses = [r["status"] for r in server.client.get("/_mock/requests").json()["requests"]]
    while not statuses and time.monotonic() < deadline:
        statuses = [r["status"] for r in server.client.get("/_mock/requests").json()["requests"]]
    assert statuses and max(statuses) < 500


def calls_per_task(receiver: Receiver) -> Counter[str]:
    return Counter(call.json()["id"] for call in receiver.calls)


def test_replicas_deliver_each_callback_on_schedule_once(
    replicas: tuple[ServerProcess, ServerProcess], receiver: Receiver
) -> None:
    first, second = replicas
    receiver.clear(Script([Reply(500)] * TASKS))  # every task's first delivery fails
    made = finished_tasks(replicas, receiver)
    second.client.post("/_mock/clock/advance", json={"seconds": 3600})
    assert calls_per_task(receiver) == dict.fromkeys(made, 2)
    for task_id in made:
        assert offsets(first, task_id) == [0, 1]
        assert [a["status"] for a in attempts(second, task_id)] == [500, 200]
    no_5xx(first)


def test_replicas_other_finishes_schedules_of_one_killed(
    replicas: tuple[ServerProcess, ServerProcess], receiver: Receiver
) -> None:
    first, second = replicas
    receiver.clear(Script.always_fail())
    made = finished_tasks(replicas, receiver)
    first.client.post("/_mock/clock/advance", json={"seconds": 1})  # attempts 1 and 2
    assert calls_per_task(receiver) == dict.fromkeys(made, 2)
    first.kill()
    second.client.post("/_mock/clock/advance", json={"seconds": 60})
    assert calls_per_task(receiver) == dict.fromkeys(made, 4)
    for task_id in made:
        assert offsets(second, task_id) == [0, 1, 3, 7]
    no_5xx(second)


def test_replicas_other_settles_and_calls_back_tasks_of_one_killed(
    replicas: tuple[ServerProcess, ServerProcess], receiver: Receiver
) -> None:
    first, second = replicas
    body = {**BODY, "callback_url": receiver.url}
    made = [first.client.post("/v1/videos/generations", json=body, headers=AUTH) for _ in "ab"]
    first.kill()  # before any of its tasks ended: nobody was told of them
    second.client.post("/_mock/clock/advance", json={"seconds": 3600})
    ids = [m.json()["id"] for m in made]
    assert calls_per_task(receiver) == dict.fromkeys(ids, 1)
    ledger = second.client.get("/_mock/ledger", params={"key": KEY}).json()
    kinds = sorted(e["kind"] for e in ledger["entries"] if e["task_id"] in ids)
    assert kinds == ["charge", "charge", "release", "release", "reserve", "reserve"]


def test_replicas_attempt_of_one_killed_mid_flight_is_made_again(
    replicas: tuple[ServerProcess, ServerProcess], receiver: Receiver
) -> None:
    first, second = replicas
    receiver.clear(Script([Reply(200, delay=30)]))  # the first call hangs; later ones 200
    task_id = first.client.post(
        "/v1/videos/generations", json={**BODY, "callback_url": receiver.url}, headers=AUTH
    ).json()["id"]
    with ThreadPoolExecutor(1) as pool:  # complete answers after its first attempt: never
        pool.submit(first.client.post, f"/_mock/tasks/{task_id}/complete")
        assert receiver.wait_for_calls(1, timeout=30)
        first.kill()  # holding the attempt's claim
    second.client.post("/_mock/clock/advance", json={"seconds": 1})
    assert receiver.call_count == 2  # at least once: the attempt in flight, made again
    found = attempts(second, task_id)
    assert [(a["number"], a["status"]) for a in found] == [(1, 200)]


def test_replicas_concurrent_creates_never_overdraw(postgres_url: str) -> None:
    args = ["--clock", "virtual", "--api-key", f"{KEY}=200"]  # four of 47.6, not five
    with running(*args, db=postgres_url) as first, running(*args, db=postgres_url) as second:
        servers = [(first, second)[i % 2] for i in range(16)]
        with ThreadPoolExecutor(8) as pool:
            statuses = list(
                pool.map(
                    lambda s: (
                        s.client.post("/v1/videos/generations", json=BODY, headers=AUTH).status_code
                    ),
                    servers,
                )
            )
        assert sorted(statuses) == [200] * 4 + [402] * 12
        first.client.post("/_mock/clock/advance", json={"seconds": 3600})
        ledger = second.client.get("/_mock/ledger", params={"key": KEY}).json()
    balance = ledger["balances"][KEY]
    charged = sum(float(e["amount"]) for e in ledger["entries"] if e["kind"] == "charge")
    assert [e["kind"] for e in ledger["entries"]].count("reserve") == 4
    assert balance["reserved"] == "0"
    assert round(float(balance["credits"]) + charged, 6) == 200


@pytest.mark.parametrize(
    ("db", "says"),
    [
        ("mysql://localhost/wanmock", "unknown store scheme 'mysql'"),
        ("postgresql://wanmock@127.0.0.1:1/wanmock", "cannot connect to PostgreSQL"),
    ],
)
def test_replicas_unusable_db_stops_the_start_with_one_line(db: str, says: str) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "mock_server", "serve", "--port", "0", "--db", db],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert done.stderr.startswith("wanmock: cannot start: ") and says in done.stderr
    assert "Traceback" not in done.stderr and done.stderr.count("\n") == 1


def test_replicas_wrong_password_stops_the_start(postgres_cluster: Any) -> None:
    db = postgres_cluster.url(password="wrong")
    done = subprocess.run(
        [sys.executable, "-m", "mock_server", "serve", "--port", "0", "--db", db],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert "password authentication failed" in done.stderr and "wrong" not in done.stderr


PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def upload(server: ServerProcess) -> dict[str, Any]:
    answer = server.client.post(
        "/api/v1/files/upload/stream",
        files={"file": ("pixel.png", PNG, "image/png")},
        headers=AUTH,
    )
    assert answer.status_code == 200, answer.text
    data: dict[str, Any] = answer.json()["data"]
    return data


def test_replicas_serve_files_from_a_shared_media_dir(postgres_url: str, tmp_path: Path) -> None:
    args = ["--clock", "virtual", "--media-dir", str(tmp_path / "media")]
    with running(*args, db=postgres_url) as first, running(*args, db=postgres_url) as second:
        data = upload(first)
        path = "/" + data["file_url"].split("/", 3)[3]
        got = second.client.get(path)
    assert got.status_code == 200 and got.content == PNG


def test_replicas_without_the_files_bytes_answer_in_the_envelope(
    postgres_url: str, tmp_path: Path
) -> None:
    with (
        running("--clock", "virtual", "--media-dir", str(tmp_path / "a"), db=postgres_url) as one,
        running("--clock", "virtual", "--media-dir", str(tmp_path / "b"), db=postgres_url) as two,
    ):
        data = upload(one)
        got = two.client.get("/" + data["file_url"].split("/", 3)[3])
    assert got.status_code == 404
    body = got.json()
    assert body["success"] is False and "--media-dir" in body["msg"]
