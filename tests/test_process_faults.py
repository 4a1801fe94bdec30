"""``wanmock serve`` as a process when what it stands on fails: a PostgreSQL that is not
up yet at start (``--db-wait``)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.conftest import AUTH
from tests.server import ServerProcess


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def until(done: Callable[[], bool], seconds: float = 60) -> None:
    """Wait for something another process does (not a timing assertion)."""
    event = threading.Event()
    for _ in range(int(seconds / 0.02)):
        if done():
            return
        event.wait(0.02)
    raise AssertionError("it did not happen")


def serve(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mock_server", "serve", "--port", "0", *args],
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_process_faults_an_unreachable_database_stops_the_start_after_db_wait() -> None:
    url = f"postgresql://wanmock:secret@127.0.0.1:{free_port()}/wanmock"
    result = serve("--db", url, "--db-wait", "0.5")
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1, result.stderr
    assert result.stderr.startswith("wanmock: cannot start: --db postgresql://wanmock:***@")
    assert "tried for 0.5 s" in result.stderr


def test_process_faults_db_wait_reads_the_environment() -> None:
    url = f"postgresql://wanmock:secret@127.0.0.1:{free_port()}/wanmock"
    result = subprocess.run(
        [sys.executable, "-m", "mock_server", "serve", "--port", "0", "--db", url],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "WANMOCK_DB_WAIT": "0.25"},
    )
    assert result.returncode == 2
    assert "tried for 0.25 s" in result.stderr


def test_process_faults_the_fake_waits_for_a_database_that_comes_up(
    gone_database: tuple[str, Callable[[bool], None]], postgres_cluster: Any
) -> None:
    url, switch = gone_database
    switch(False)
    log = Path(postgres_cluster.root) / "log"
    refused = url.rsplit("/", 1)[1] + '" is not currently accepting connections'
    before = log.read_text().count(refused)
    started: list[ServerProcess] = []
    starting = threading.Thread(
        target=lambda: started.append(ServerProcess(["--db", url, "--db-wait", "60"]))
    )
    starting.start()
    until(lambda: log.read_text().count(refused) > before)  # it tried and was refused
    switch(True)
    starting.join(60)
    server = started[0]
    try:
        answer = server.client.get("/v1/credits", headers=AUTH)
        assert answer.status_code == 200
        assert server.stderr() == ""
    finally:
        server.stop()
