"""SIGTERM to ``wanmock serve`` under load, on both stores: a request in flight
finishes and is kept, new connections are refused, and the process exits 0 within
``--graceful-timeout``; a request that outlasts it is cut off and leaves nothing half
done. A real process on a real port; the requests are sent by hand so the test knows
one is in flight (the server has asked for its body: ``Expect: 100-continue``)."""

from __future__ import annotations

import signal
import socket
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import orjson
import pytest

from tests.conftest import BODY, KEY
from tests.server import ServerProcess, running
from tests.test_process_faults import until


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


def test_shutdown_sigterm_lets_a_request_in_flight_finish_and_exits_0(
    db: str, tmp_path: Path
) -> None:
    server = serve(db, tmp_path, "--graceful-timeout", "60")
    try:
        first = server.client.post(
            "/v1/videos/generations", json=BODY, headers={"Authorization": f"Bearer {KEY}"}
        ).json()
        slow = SlowCreate(server.base_url)
        (status, second), exit_status = stopped(server, slow.finish)
        slow.close()
        errors = server.stderr()
    finally:
        server.stop()
    assert status == 200
    assert exit_status == 0
    assert errors == ""
    with running("--media-dir", str(tmp_path / "media"), db=db) as again:
        auth = {"Authorization": f"Bearer {KEY}"}
        for task in (first, second):
            assert again.client.get(f"/v1/tasks/{task['id']}", headers=auth).status_code == 200
        ledger = again.client.get(f"/_mock/ledger?key={KEY}").json()
        assert ledger["balances"][KEY]["reserved"] == "95.2"  # both acknowledged, no more


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
