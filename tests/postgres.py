"""A throwaway PostgreSQL cluster for the tests, from the distribution's package
(``make install-postgres``): initdb in a temporary directory, a free port, fsync off,
stopped and deleted at the end. As root it runs as the ``postgres`` user (initdb refuses
root)."""

from __future__ import annotations

import contextlib
import glob
import itertools
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import psycopg


def find_bin() -> Path | None:
    """The directory of initdb and pg_ctl: on PATH, or Debian's versioned directory."""
    found = shutil.which("pg_ctl")
    if found and shutil.which("initdb"):
        return Path(found).resolve().parent
    versions = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"), reverse=True)
    return Path(versions[0]).parent if versions else None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Cluster:
    USER = "wanmock"
    PASSWORD = "wanmock-test"

    def __init__(self, bin_dir: Path) -> None:
        self.bin_dir = bin_dir
        self.root = Path(tempfile.mkdtemp(prefix="wanmock-pg-"))
        self.data = self.root / "data"
        self.port = _free_port()
        self._names = itertools.count(1)
        self._run_as: list[str] = []
        if os.geteuid() == 0:
            user = "postgres" if _has_user("postgres") else "nobody"
            self._run_as = ["runuser", "-u", user, "--"]
            os.chmod(self.root, 0o755)
            shutil.chown(self.root, user)
        secret = self.root / "password"
        secret.write_text(self.PASSWORD)
        if self._run_as:
            shutil.chown(secret, self._run_as[2])
        self._pg(
            "initdb", "-D", str(self.data), "-U", self.USER, "-E", "UTF8", "--auth-local=trust",
            "--auth-host=scram-sha-256", f"--pwfile={secret}",
        )  # fmt: skip
        options = (
            f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off "
            "-c synchronous_commit=off -c full_page_writes=off -c max_connections=200"
        )
        self._pg(
            "pg_ctl", "-D", str(self.data), "-l", str(self.root / "log"), "-o", options, "-w",
            "start",
        )  # fmt: skip

    def _pg(self, program: str, *args: str) -> None:
        subprocess.run(
            [*self._run_as, str(self.bin_dir / program), *args],
            check=True,
            capture_output=True,
            timeout=120,
        )

    def restart(self) -> None:
        """``pg_ctl restart -m fast``: every session is ended, open transactions are rolled
        back, and the server is accepting connections again when this returns."""
        self._pg("pg_ctl", "-D", str(self.data), "-l", str(self.root / "log"), "-m", "fast",
                 "-w", "restart")  # fmt: skip

    def url(self, database: str = "postgres", password: str = PASSWORD) -> str:
        return f"postgresql://{self.USER}:{password}@127.0.0.1:{self.port}/{database}"

    def new_database(self) -> str:
        """The URL of a fresh empty store: a schema of its own in the cluster's one
        database (CREATE DATABASE costs a second; a schema nothing)."""
        name = f"t{os.getpid()}_{next(self._names)}"
        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f"CREATE SCHEMA {name}")
        return f"{self.url()}?options=-csearch_path%3D{name}"

    def stop(self) -> None:
        with contextlib.suppress(subprocess.SubprocessError, OSError):
            self._pg("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")
        shutil.rmtree(self.root, ignore_errors=True)


@contextlib.contextmanager
def cluster() -> Iterator[Cluster]:
    """A cluster for a test session or module; skipped where the package is missing,
    except under CI, where ``make install-postgres`` put it."""
    import pytest

    bin_dir = find_bin()
    if bin_dir is None:
        if os.environ.get("CI"):
            pytest.fail("PostgreSQL is missing: make install-postgres")
        pytest.skip("PostgreSQL is missing (make install-postgres)")
    started = Cluster(bin_dir)
    try:
        yield started
    finally:
        started.stop()


def _has_user(name: str) -> bool:
    try:
        pwd.getpwnam(name)
    except KeyError:
        return False
    return True
