"""SIGTERM to ``wanmock serve`` under load, on both stores: requests in flight finish
and are kept, new connections are refused, and the process exits 0 within
``--graceful-timeout``; a request that outlasts it is cut off and leaves nothing half
done. A callback attempt in flight is recorded once if it finishes, and made again
after the restart if it was cut off: never lost, never recorded twice. A real process
on a real port; creates are sent by hand so the test knows they are in flight (the
server has asked for their bodies: ``Expect: 100-continue``)."""

from __future__ import annotations

import asyncio
import signal
import socket
import threading
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import orjson
import pytest

from mock_server.testing.receiver import Receiver
from tests.conftest import BODY, KEY
from tests.server import ServerProcess, running
from tests.test_process_faults import until

IN_FLIGHT = 4  # creates in flight when SIGTERM arrives


class SlowCreate:
    """A create on a connection of its own: its headers now, its body when ``finish``
    is called, so the request stays in flight as long as the test wants."""

    def __init__(self, base_url: str) -> None:
        address = urlsplit(base_url)
        self.body = orjson.dumps(BODY)
        self.sock = socket.create_connection((address.hostname, address.port), timeout=60)
        self.sock.sendall(
            (
                "POST /v1/videos/generations HTTP/1.1\r\n"
                f"Host: {address.netloc}\r\n"
                f"Authorization: Bearer {KEY}\r\n"
                "Content-Type: application/json\r\n"
                f"Content-Length: {len(self.body)}\r\n"
                "Expect: 100-continue\r\n\r\n"
            ).encode()
        )
        self.answers = self.sock.makefile("rb")
        assert self.answers.readline().startswith(b"HTTP/1.1 100")  # the handler reads
        assert self.answers.readline() == b"\r\n"

    def finish(self) -> tuple[int, Any]:
        self.sock.sendall(self.body)
        status = int(self.answers.readline().split()[1])
        length = 0
        while (line := self.answers.readline()) not in (b"\r\n", b""):
            name, _, value = line.decode().partition(":")
            if name.lower() == "content-length":
                length = int(value)
        return status, orjson.loads(self.answers.read(length))

    def close(self) -> None:
        self.answers.close()
        self.sock.close()


def refuses_connections(base_url: str) -> bool:
    address = urlsplit(base_url)
    try:
        socket.create_connection((address.hostname, address.port), timeout=5).close()
    except ConnectionRefusedError:
        return True
    return False


@pytest.fixture(params=["sqlite-file", "postgresql"])
def db(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "postgresql":
        return str(request.getfixturevalue("postgres_url"))
    return str(tmp_path / "wanmock.db")


def serve(db: str, tmp_path: Path, *args: str) -> ServerProcess:
    return ServerProcess(["--db", db, "--media-dir", str(tmp_path / "media"), *args])


def stopped(server: ServerProcess, then: Callable[[], Any]) -> Any:
    """SIGTERM, wait until the port refuses connections, run ``then``; the exit status."""
    server.process.send_signal(signal.SIGTERM)
    until(lambda: refuses_connections(server.base_url))
    result = then()
    return result, server.process.wait(60)


def test_shutdown_sigterm_lets_requests_in_flight_finish_and_exits_0(
    db: str, tmp_path: Path
) -> None:
    server = serve(db, tmp_path, "--graceful-timeout", "60")
    try:
        first = server.client.post(
            "/v1/videos/generations", json=BODY, headers={"Authorization": f"Bearer {KEY}"}
        ).json()
        slow = [SlowCreate(server.base_url) for _ in range(IN_FLIGHT)]
        answers, exit_status = stopped(server, lambda: [s.finish() for s in slow])
        for each in slow:
            each.close()
        errors = server.stderr()
    finally:
        server.stop()
    assert [status for status, _ in answers] == [200] * IN_FLIGHT
    assert exit_status == 0
    assert errors == ""
    with running("--media-dir", str(tmp_path / "media"), db=db) as again:
        auth = {"Authorization": f"Bearer {KEY}"}
        for task in [first, *(task for _, task in answers)]:
            assert again.client.get(f"/v1/tasks/{task['id']}", headers=auth).status_code == 200
        ledger = again.client.get(f"/_mock/ledger?key={KEY}").json()
        # every acknowledged task reserved its 47.6, and nothing else did
        assert Decimal(ledger["balances"][KEY]["reserved"]) == Decimal("47.6") * (1 + IN_FLIGHT)


def test_shutdown_a_request_past_the_graceful_timeout_is_cut_off_and_exits_0(
    db: str, tmp_path: Path
) -> None:
    server = serve(db, tmp_path, "--graceful-timeout", "0.2")
    try:
        slow = SlowCreate(server.base_url)
        _, exit_status = stopped(server, lambda: None)
        slow.close()
    finally:
        server.stop()
    assert exit_status == 0
    with running("--media-dir", str(tmp_path / "media"), db=db) as again:
        assert again.client.get("/_mock/tasks").json()["tasks"] == []
        ledger = again.client.get(f"/_mock/ledger?key={KEY}").json()
        assert ledger["balances"][KEY]["reserved"] == "0"


class HeldReceiver:
    """The project's HTTPS receiver, holding its first call until ``release_first``."""

    def __init__(self) -> None:
        self.release_first = threading.Event()
        self.first_arrived = threading.Event()
        self.receiver = Receiver(on_call=self.hold).start()
        self.url = self.receiver.url

    async def hold(self, call: Any) -> None:
        if not self.first_arrived.is_set():
            self.first_arrived.set()
            await asyncio.to_thread(self.release_first.wait, 60)

    def task_ids(self) -> list[str]:
        return [call.json()["id"] for call in self.receiver.calls]

    def close(self) -> None:
        self.release_first.set()
        self.receiver.stop()


@pytest.fixture
def receiver() -> Iterator[HeldReceiver]:
    held = HeldReceiver()
    yield held
    held.close()


CALLBACK_ARGS = ("--clock", "virtual", "--allow-callback-host", "127.0.0.1")


def callback_args(receiver: HeldReceiver) -> tuple[str, ...]:
    return (*CALLBACK_ARGS, "--callback-ca-file", receiver.receiver.ca_file)


def complete_in_flight(
    server: ServerProcess, receiver: HeldReceiver
) -> tuple[str, threading.Thread]:
    """A task with a callback, completed through the control API: its callback attempt is
    made before the control call answers, and the receiver holds it."""
    auth = {"Authorization": f"Bearer {KEY}"}
    task = server.client.post(
        "/v1/videos/generations", json={**BODY, "callback_url": receiver.url}, headers=auth
    ).json()
    completing = threading.Thread(
        target=lambda: server.client.post(f"/_mock/tasks/{task['id']}/complete")
    )
    completing.start()
    assert receiver.first_arrived.wait(60)
    return task["id"], completing


def delivered_attempts(server: ServerProcess, task_id: str) -> list[dict[str, Any]]:
    page = server.client.get(f"/_mock/callbacks?task_id={task_id}").json()
    return [a for a in page["attempts"] if a["outcome"] == "delivered"]


def sigterm_during_a_callback(
    db: str, tmp_path: Path, receiver: HeldReceiver, graceful: str, then: Callable[[], Any]
) -> str:
    """SIGTERM while the receiver holds a callback attempt, ``then`` once the port
    refuses connections; the process must exit 0. The task's id."""
    server = serve(db, tmp_path, *callback_args(receiver), "--graceful-timeout", graceful)
    try:
        task_id, completing = complete_in_flight(server, receiver)
        _, exit_status = stopped(server, then)
        completing.join(60)
    finally:
        server.stop()
    assert exit_status == 0
    return task_id


def delivered_after_restart(db: str, tmp_path: Path, receiver: HeldReceiver, task_id: str) -> int:
    """Restart on the same store, run whatever is due: how many delivered attempts."""
    media = str(tmp_path / "media")
    with running("--media-dir", media, *callback_args(receiver), db=db) as again:
        again.client.post("/_mock/clock/advance", json={"seconds": 60})
        return len(delivered_attempts(again, task_id))


def test_shutdown_a_callback_attempt_in_flight_that_finishes_is_recorded_once(
    db: str, tmp_path: Path, receiver: HeldReceiver
) -> None:
    task_id = sigterm_during_a_callback(db, tmp_path, receiver, "60", receiver.release_first.set)
    assert delivered_after_restart(db, tmp_path, receiver, task_id) == 1
    assert receiver.task_ids() == [task_id]  # recorded before the stop: not made again


def test_shutdown_a_callback_attempt_cut_off_is_made_again_after_the_restart(
    db: str, tmp_path: Path, receiver: HeldReceiver
) -> None:
    task_id = sigterm_during_a_callback(db, tmp_path, receiver, "0.2", lambda: None)
    receiver.release_first.set()
    assert delivered_after_restart(db, tmp_path, receiver, task_id) == 1
    assert receiver.task_ids() == [task_id, task_id]  # at least once


def test_shutdown_sigterm_to_several_workers_exits_0(tmp_path: Path) -> None:
    server = serve(str(tmp_path / "wanmock.db"), tmp_path, "--workers", "2")
    try:
        auth = {"Authorization": f"Bearer {KEY}"}
        assert server.client.get("/v1/credits", headers=auth).status_code == 200
        _, exit_status = stopped(server, lambda: None)
        errors = server.stderr()
    finally:
        server.stop()
    assert exit_status == 0
    assert "Traceback" not in errors
