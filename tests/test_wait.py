"""``wanmock wait``: 0 as soon as the fake serves, non-zero within its timeout when not."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from mock_server.runtime.clock import monotonic
from mock_server.testing.embedded import free_port
from tests.server import running

# Real processes and real timeouts.
pytestmark = pytest.mark.slow


def wait(*args: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "mock_server", "wait", *args],
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, **(env or {})},
    )


def finish(process: subprocess.Popen[str]) -> tuple[int, str]:
    _, errors = process.communicate(timeout=60)
    return process.returncode, errors


def test_wait_returns_0_when_the_fake_serves() -> None:
    with running() as server:
        code, errors = finish(wait("--url", server.base_url, "--timeout", "10"))
    assert code == 0, errors
    assert "ready after" in errors


def test_wait_fails_within_its_timeout_when_nothing_serves() -> None:
    started = monotonic()
    code, errors = finish(wait("--url", f"http://127.0.0.1:{free_port()}", "--timeout", "1"))
    took = monotonic() - started
    assert code == 1
    assert "did not answer 200 within 1 s" in errors and "Connection refused" in errors
    assert took < 1 + 4  # the timeout, plus the interpreter's start


def test_wait_returns_once_a_late_fake_comes_up() -> None:
    port = str(free_port())
    waiting = wait("--url", f"http://127.0.0.1:{port}", "--timeout", "30")
    with running("--port", port):
        code, errors = finish(waiting)
    assert code == 0, errors


def test_wait_sends_the_control_token_from_the_environment() -> None:
    with running("--control-token", "s3cret") as server:
        refused, errors = finish(wait("--url", server.base_url, "--timeout", "10"))
        code, _ = finish(
            wait(
                "--url", server.base_url, "--timeout", "10", env={"WANMOCK_CONTROL_TOKEN": "s3cret"}
            )
        )
    assert refused == 2 and "control token" in errors
    assert code == 0


def test_wait_documents_its_exit_codes_in_help() -> None:
    text = subprocess.run(
        [sys.executable, "-m", "mock_server", "wait", "--help"], capture_output=True, text=True
    ).stdout
    assert "exit status:" in text and "--timeout" in text and "--control-token" in text
