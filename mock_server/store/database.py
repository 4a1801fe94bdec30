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
import functools
import mmap
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path

BUSY_TIMEOUT_MS = 30_000
# The WAL-index header (https://www.sqlite.org/walformat.html, "2.1 The WAL-Index
# Header"): 48 bytes at the start of the -shm file that every commit rewrites (its
# iChange counter moves on each transaction), so comparing them tells whether anyone
# committed since the last look, for the price of a memory compare.
WAL_INDEX_HEADER_BYTES = 48


def _add(a: str, b: str) -> str:
    return str(Decimal(a) + Decimal(b))


def _sub(a: str, b: str) -> str:
    return str(Decimal(a) - Decimal(b))


def _ge(a: str, b: str) -> int:
    return int(Decimal(a) >= Decimal(b))


# What a closed store raises: a caller shutting down may meet it and give up quietly.
StoreClosed = sqlite3.ProgrammingError


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


def apply_schemas(db: sqlite3.Connection, schemas: tuple[str, ...]) -> None:
    for schema in schemas:
        for statement in schema.split(";"):
            if statement.strip():
                db.execute(statement)


@functools.cache
def _template(schemas: tuple[str, ...]) -> tuple[sqlite3.Connection, threading.Lock]:
    """An empty in-memory store with ``schemas`` applied, made once per process.

    A fresh ``:memory:`` store is a page copy of it (``_copy_template``): the pytest
    fixture makes one store per test, and running the schema's statements costs several
    times the copy. It is never written after it is built, so every copy is the same
    empty store the statements would have made."""
    db = sqlite3.connect(":memory:", isolation_level=None, check_same_thread=False)
    db.execute("BEGIN IMMEDIATE")
    apply_schemas(db, schemas)
    db.execute("COMMIT")
    return db, threading.Lock()


def _copy_template(schemas: tuple[str, ...], target: sqlite3.Connection) -> None:
    template, lock = _template(schemas)
    with lock:
        template.backup(target)


class Database:
    """The connection; table mixins (``store/*.py``) add their schema and queries."""

    SCHEMAS: tuple[str, ...] = ()
    TABLES: tuple[str, ...] = ()  # what ``reset`` empties

    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        self._db.row_factory = sqlite3.Row
        self._lock = threading.RLock()
        # Credits are decimal strings; these keep SQL's arithmetic on them exact, so a
        # reservation can be one conditional UPDATE (store/ledger.py).
        self._db.create_function("dec_add", 2, _add, deterministic=True)
        self._db.create_function("dec_sub", 2, _sub, deterministic=True)
        self._db.create_function("dec_ge", 2, _ge, deterministic=True)
        self._db.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        if self.path != ":memory:":
            self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        if self.path == ":memory:":
            _copy_template(self.SCHEMAS, self._db)
        else:
            with self.transaction() as db:
                self.prepare(db)
                apply_schemas(db, self.SCHEMAS)
        self.signal = ChangeSignal(self.path)

    def prepare(self, db: sqlite3.Connection) -> None:
        """Look at the file before the schema is applied (a mixin refuses old layouts)."""

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            if self._db.in_transaction:  # nested: part of the caller's transaction
                yield self._db
                return
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def query(self, sql: str, args: tuple[object, ...] = ()) -> list[sqlite3.Row]:
        with self._lock:
            return self._db.execute(sql, args).fetchall()

    def reset(self) -> None:
        with self.transaction() as db:
            for table in self.TABLES:
                db.execute(f"DELETE FROM {table}")

    def close(self) -> None:
        with self._lock:
            self.signal.close()
            self._db.close()
