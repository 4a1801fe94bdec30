"""Start, probe and stop the servers under test, each in its own process on loopback."""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO
from urllib.parse import urlsplit

URL_RE = re.compile(r"http://(?:127\.0\.0\.1|localhost|\[::1\]):\d+")


class BenchError(RuntimeError):
    """Something the bench needs did not work; the message says what."""


@dataclass
class Server:
    name: str
    process: subprocess.Popen[bytes]
    base_url: str
    log_path: Path
    _log: IO[bytes]

    @property
    def pid(self) -> int:
        return self.process.pid

    @property
    def address(self) -> tuple[str, int]:
        parts = urlsplit(self.base_url)
        return parts.hostname or "127.0.0.1", parts.port or 80

    def stop(self) -> None:
        """SIGTERM (uvicorn shuts down gracefully), then SIGKILL if it lingers."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)
        self._log.close()


def wanmock_argv() -> list[str]:
    """``wanmock serve`` from the same environment as this Python."""
    script = Path(sys.executable).parent / "wanmock"
    if script.exists():
        return [str(script)]
    found = shutil.which("wanmock")
    return [found] if found else [sys.executable, "-m", "mock_server.cli"]


def start(name: str, argv: list[str], log_path: Path, timeout: float = 20.0) -> Server:
    """Run ``argv``, wait for the base URL it prints and for its port to accept."""
    log = log_path.open("wb")
    # WANMOCK_* settings from the caller's shell must not change what is measured
    env = {k: v for k, v in os.environ.items() if not k.startswith("WANMOCK_")}
    process = subprocess.Popen(
        argv, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env
    )
    deadline = time.monotonic() + timeout
    base_url = None
    try:
        while base_url is None:
            text = log_path.read_text(errors="replace")
            match = URL_RE.search(text)
            if match:
                base_url = match.group(0)
            elif process.poll() is not None:
                raise BenchError(f"{name} exited with {process.returncode}:\n{text}")
            elif time.monotonic() > deadline:
                raise BenchError(f"{name} printed no URL in {timeout:.0f} s:\n{text}")
            else:
                time.sleep(0.05)
        server = Server(name, process, base_url, log_path, log)
        wait_accepting(server, deadline)
    except BaseException:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=5)
        log.close()
        raise
    return server


def wait_accepting(server: Server, deadline: float) -> None:
    while True:
        try:
            socket.create_connection(server.address, timeout=0.5).close()
            return
        except OSError:
            if server.process.poll() is not None or time.monotonic() > deadline:
                raise BenchError(
                    f"{server.name} never accepted connections:\n"
                    + server.log_path.read_text(errors="replace")
                ) from None
            time.sleep(0.05)
