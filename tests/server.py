"""``wanmock serve`` as a user runs it: a real process on a real port."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx


class ServerProcess:
    def __init__(self, args: list[str], env: dict[str, str] | None = None) -> None:
        self.args = args
        self.errors = tempfile.TemporaryFile("w+")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "mock_server", "serve", "--port", "0", *args],
            stdout=subprocess.PIPE,
            stderr=self.errors,
            text=True,
            env={**os.environ, **(env or {})},
        )
        assert self.process.stdout is not None
        self.banner = [self.process.stdout.readline() for _ in range(5)]
        first = self.banner[0]
        if " at http" not in first:
            errors = self.stderr()
            self.stop()
            raise RuntimeError(f"wanmock did not start: {first!r} {errors!r}")
        self.base_url = first.rsplit(" at ", 1)[1].strip()
        self.client = httpx.Client(base_url=self.base_url, timeout=30)

    def stderr(self) -> str:
        self.errors.seek(0)
        return self.errors.read()

    def kill(self) -> None:
        """``kill -9``: no shutdown hook runs."""
        self.process.send_signal(signal.SIGKILL)
        self.stop()

    def stop(self) -> None:
        if hasattr(self, "client"):
            self.client.close()
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
        self.process.wait(10)
        assert self.process.stdout is not None
        self.process.stdout.close()
        self.errors.close()


@contextmanager
def running(
    *args: str, db: Path | str = ":memory:", env: dict[str, str] | None = None
) -> Iterator[ServerProcess]:
    server = ServerProcess(["--db", str(db), *args], env)
    try:
        yield server
    except httpx.TransportError as exc:  # the server may have died: say why
        raise AssertionError(f"{exc!r}; the server's stderr:\n{server.stderr()}") from exc
    finally:
        server.stop()
