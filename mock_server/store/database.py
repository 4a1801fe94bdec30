"""One SQLite database shared by the store's tables: connection, transactions, exact
decimal arithmetic in SQL, and the cheap signal that another process wrote.

WAL with ``synchronous=NORMAL``: a process crash (``kill -9``) never loses a committed
transaction, only a power cut can lose the last few. One lock serialises this process's
use of the connection; ``BEGIN IMMEDIATE`` and ``busy_timeout`` serialise processes, so
a transaction is the unit of agreement between every process sharing the file
(docs/ARCHITECTURE.md "The store is the source of truth").
"""

from __future__ import annotations

import contextlib
import dataclasses
import mmap
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path
from typing import Any, TypeVar

from mock_server.store import memory
from mock_server.store.records import FaultLog

BUSY_TIMEOUT_MS = 30_000
# The WAL-index header (https://www.sqlite.org/walformat.html, "2.1 The WAL-Index
# Header"): 48 bytes at the start of the -shm file that every commit rewrites (its
# iChange counter moves on each transaction), so comparing them tells whether anyone
# committed since the last look, for the price of a memory compare.
WAL_INDEX_HEADER_BYTES = 48
# SQLite's primary result codes of a database that cannot write for now
# (https://www.sqlite.org/rescode.html): BUSY, LOCKED, READONLY, IOERR, FULL, CANTOPEN.
UNAVAILABLE = frozenset({5, 6, 8, 10, 13, 14})


def _add(a: str, b: str) -> str:
    return str(Decimal(a) + Decimal(b))


def _sub(a: str, b: str) -> str:
    return str(Decimal(a) - Decimal(b))


def _ge(a: str, b: str) -> int:
    return int(Decimal(a) >= Decimal(b))


class StoreClosedError(Exception):
    """A store that is not SQLite was used after ``close``."""


# What a closed store raises: a caller shutting down may meet it and give up quietly.
StoreClosed = (sqlite3.ProgrammingError, StoreClosedError)
_CLOSED = memory.closed_connection()  # a closed store's connection: any use raises


class ChangeSignal:
    """Has any connection committed to this database since ``seen``?

    Reads the WAL-index header from the shared-memory file SQLite keeps beside a WAL
    database; an in-memory database has no other writer, so it never signals.
    """

    def __init__(self, path: str) -> None:
        self._map: mmap.mmap | None = None
        self._last = b""
        shm = Path(path + "-shm")
        if path == ":memory:" or not shm.exists():
            return
        with shm.open("rb") as file, contextlib.suppress(OSError, ValueError):
            self._map = mmap.mmap(file.fileno(), 0, access=mmap.ACCESS_READ)
        self._last = self.snapshot()

    def snapshot(self) -> bytes:
        return b"" if self._map is None else self._map[:WAL_INDEX_HEADER_BYTES]

    def changed(self) -> bool:
        return self._map is not None and self._map[:WAL_INDEX_HEADER_BYTES] != self._last

    def seen(self, snapshot: bytes) -> None:
        self._last = snapshot

    def close(self) -> None:
        if self._map is not None:
            self._map.close()
            self._map = None


def configure(db: sqlite3.Connection) -> None:
    """What every connection to a store needs, file or memory."""
    db.row_factory = sqlite3.Row
    # Credits are decimal strings; these keep SQL's arithmetic on them exact, so a
    # reservation can be one conditional UPDATE (store/ledger.py).
    db.create_function("dec_add", 2, _add, deterministic=True)
    db.create_function("dec_sub", 2, _sub, deterministic=True)
    db.create_function("dec_ge", 2, _ge, deterministic=True)
    db.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    db.execute("PRAGMA synchronous=NORMAL")


R = TypeVar("R")


def record(cls: type[R], row: sqlite3.Row, **converted: Any) -> R:
    """A row as the domain's record of the same field names (``converted`` wins)."""
    names = [f.name for f in dataclasses.fields(cls)]  # type: ignore[arg-type]
    return cls(**{name: row[name] for name in names if name not in converted}, **converted)


class Database:
    """The connection; table mixins (``store/*.py``) add their schema and queries."""

    SCHEMAS: tuple[str, ...] = ()
    TABLES: tuple[str, ...] = ()  # what ``reset`` empties

    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        self._lock = threading.RLock()
        self.faults = FaultLog(self.path)
        if self.path == ":memory:":  # a copy of a template, maybe a used one emptied
            self._db = memory.open_store(self.SCHEMAS, configure)
        else:
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
            configure(self._db)
            self._db.execute("PRAGMA journal_mode=WAL")
            with self.transaction() as db:
                self.prepare(db)
                memory.apply_schemas(db, self.SCHEMAS)
        self.signal = ChangeSignal(self.path)

    def prepare(self, db: sqlite3.Connection) -> None:
        """Look at the file before the schema is applied (a mixin refuses old layouts)."""

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """The one place SQLite's errors leave the store: a full, read-only or failing
        disk (or a lock held past ``busy_timeout``) is ``StoreUnavailable``, with
        nothing of the transaction kept."""
        with self._lock:
            if self._db.in_transaction:  # nested: part of the caller's transaction
                yield self._db
                return
            try:
                self._db.execute("BEGIN IMMEDIATE")
                try:
                    yield self._db
                except BaseException:
                    self._db.execute("ROLLBACK")
                    raise
                self._db.execute("COMMIT")
            except sqlite3.OperationalError as exc:
                if exc.sqlite_errorcode & 0xFF not in UNAVAILABLE:
                    raise
                if self._db.in_transaction:  # a failed COMMIT may leave it open
                    self._db.execute("ROLLBACK")
                raise self.faults.failed(exc) from exc
            self.faults.worked()

    def query(self, sql: str, args: tuple[object, ...] = ()) -> list[sqlite3.Row]:
        with self._lock:
            return self._db.execute(sql, args).fetchall()

    def reset(self) -> None:
        with self.transaction() as db:
            for table in self.TABLES:
                db.execute(f"DELETE FROM {table}")

    def close(self) -> None:
        """Close the store; using it after raises ``StoreClosed``."""
        with self._lock:
            self.signal.close()
            db, self._db = self._db, _CLOSED
            if db is _CLOSED:
                return
            if self.path == ":memory:":
                memory.close_store(self.SCHEMAS, db)
            else:
                db.close()
