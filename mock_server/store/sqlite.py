"""The SQLite dialect: one file (WAL) shared by every process of one fake, or
``:memory:`` for a fake that lives and dies with its process.

WAL with ``synchronous=NORMAL``: a process crash (``kill -9``) never loses a committed
transaction, only a power cut can lose the last few. One lock serialises this process's
use of the connection; ``BEGIN IMMEDIATE`` and ``busy_timeout`` serialise processes, so a
transaction is the unit of agreement between every process sharing the file.

In-memory stores are made cheap to open: a fake per test (the pytest fixture) opens one.
Opening a ``:memory:`` store the plain way runs every schema statement, then SQLite
parses that schema again and compiles each query the first time it is used; together
they cost more than the rest of a short test. So, per process:

- a template store is built once, and a new connection is a page copy of it
  (``sqlite3.Connection.backup``);
- a closed store's connection is emptied back to exactly the template's rows and kept
  (a few at most) for the next store to open, with its parsed schema and compiled
  queries: the schema never changes, so they stay valid.

Either way a store opens empty: the same tables, indexes and rows as the schema's
statements make (``tests/test_database.py`` compares them).
"""

from __future__ import annotations

import contextlib
import fcntl
import functools
import mmap
import os
import sqlite3
import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from mock_server.store import migrations, schema
from mock_server.store.database import marks

BUSY_TIMEOUT_MS = 30_000
# The WAL-index header (https://www.sqlite.org/walformat.html, "2.1 The WAL-Index
# Header"): 48 bytes at the start of the -shm file that every commit rewrites (its
# iChange counter moves on each transaction), so comparing them tells whether anyone
# committed since the last look, for the price of a memory compare.
WAL_INDEX_HEADER_BYTES = 48
# SQLite's primary result codes of a database that cannot write for now
# (https://www.sqlite.org/rescode.html): BUSY, LOCKED, READONLY, IOERR, FULL, CANTOPEN.
UNAVAILABLE = frozenset({5, 6, 8, 10, 13, 14})
KEEP = 4  # clean in-memory connections kept; a test suite uses one at a time
TYPES = {
    "bigint": "INTEGER",
    "real": "REAL",
    "bool": "INTEGER",
    "blob": "BLOB",
    "money": "TEXT",  # decimal strings: the functions below keep their arithmetic exact
    "zero": "'0'",
    "serial": "INTEGER PRIMARY KEY AUTOINCREMENT",
}
SCHEMA = schema.statements(TYPES)
# A closed store's connection: any use raises sqlite3.ProgrammingError.
_CLOSED = sqlite3.connect(":memory:", check_same_thread=False)
_CLOSED.close()


DECIMAL_FUNCTIONS: dict[str, Callable[[str, str], str | bool]] = {
    "dec_add": lambda a, b: str(Decimal(a) + Decimal(b)),
    "dec_sub": lambda a, b: str(Decimal(a) - Decimal(b)),
    "dec_ge": lambda a, b: Decimal(a) >= Decimal(b),
}


def configure(db: sqlite3.Connection) -> None:
    """What every connection to a store needs, file or memory."""
    db.row_factory = sqlite3.Row
    for name, function in DECIMAL_FUNCTIONS.items():
        db.create_function(name, 2, function, deterministic=True)
    db.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    db.execute("PRAGMA synchronous=NORMAL")


def open_alone(folder: Path) -> int:
    """Processes opening a store file take turns, from the first connection to the
    schema set up (``ready``): two first connections racing to turn a new file to WAL
    mode and create its tables get "database is locked" or "locking protocol", or one
    maps a -shm file the other then truncates (SIGBUS). An flock on the folder, not on
    the database file: closing any descriptor of that file drops SQLite's own locks.
    The descriptor to close when done (closing it releases the flock)."""
    fd = os.open(folder, os.O_RDONLY)
    fcntl.flock(fd, fcntl.LOCK_EX)
    return fd


@dataclass
class Template:
    """The empty in-memory store, what it holds, and the clean connections kept."""

    db: sqlite3.Connection
    rows: dict[str, list[tuple[object, ...]]]  # the tables with rows, and their rows
    written: str  # the names of the other tables that have rows now, in one query
    kept: list[sqlite3.Connection] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


@functools.cache
def template() -> Template:
    """Never written after it is made, so every copy of it is the same empty store."""
    db = sqlite3.connect(":memory:", isolation_level=None, check_same_thread=False)
    db.execute("BEGIN IMMEDIATE")
    for statement in SCHEMA:
        db.execute(statement)
    db.execute("COMMIT")
    names = db.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
    tables = [str(name) for (name,) in names.fetchall()]
    rows = {table: db.execute(f'SELECT * FROM "{table}"').fetchall() for table in tables}
    written = " UNION ALL ".join(
        f"SELECT '{table}' WHERE EXISTS (SELECT 1 FROM \"{table}\")"
        for table in tables
        if not rows[table]
    )
    return Template(db, {table: found for table, found in rows.items() if found}, written)


def open_memory() -> sqlite3.Connection:
    kind = template()
    with kind.lock:
        if kind.kept:
            return kind.kept.pop()
        db = sqlite3.connect(":memory:", isolation_level=None, check_same_thread=False)
        configure(db)
        kind.db.backup(db)
    return db


def close_memory(db: sqlite3.Connection) -> None:
    """Only the tables written to are emptied (a test writes a few of them): one query
    finds them, cheaper than a statement per table."""
    kind = template()
    try:
        if db.in_transaction:
            db.execute("ROLLBACK")
        db.execute("BEGIN IMMEDIATE")
        written = [str(name) for (name,) in db.execute(kind.written).fetchall()]
        for table in (*written, *kind.rows):
            db.execute(f'DELETE FROM "{table}"')
        for table, rows in kind.rows.items():
            db.executemany(f'INSERT INTO "{table}" VALUES ({marks(len(rows[0]))})', rows)
        db.execute("COMMIT")
    except sqlite3.Error:
        db.close()
        return
    with kind.lock:
        if len(kind.kept) < KEEP:
            kind.kept.append(db)
            return
    db.close()


class WalSignal:
    """The change signal of a WAL file: its -shm file's WAL-index header, compared; an
    in-memory database has no other writer, so it never signals."""

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


class SqliteDialect:
    """SQLite's part of the store (store/database.py ``Dialect``)."""

    types: Mapping[str, str] = TYPES
    add, sub, ge = "dec_add({}, {})", "dec_sub({}, {})", "dec_ge({}, {})"
    skip_locked = notify = schema_lock = ""  # one writer at a time: nothing to skip or tell
    migrations: Mapping[int, migrations.Migration] = migrations.SQLITE
    closed_errors: tuple[type[BaseException], ...] = (sqlite3.ProgrammingError,)

    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        self._lock = threading.RLock()
        self.from_template = self.path == ":memory:"
        self.shared = not self.from_template  # a :memory: store is this process's alone
        self._alone: int | None = None
        if self.from_template:  # a copy of a template, maybe a used one emptied
            self._db = open_memory()
        else:
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
            self._alone = open_alone(Path(self.path).parent)
            self._db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
            configure(self._db)
            self._db.execute("PRAGMA journal_mode=WAL")
            # A first read opens the WAL and makes the -shm file the signal maps.
            self._db.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()
        self.signal = WalSignal(self.path)

    def ready(self) -> None:
        if self._alone is not None:
            os.close(self._alone)
            self._alone = None

    def json_field(self, column: str, path: str, sql_type: str) -> str:
        return f"json_extract({column}, '$.{path}')"  # typed already, as JSON is

    @contextlib.contextmanager
    def connect(self, write: bool) -> Iterator[sqlite3.Connection]:
        with self._lock:
            if not write or self._db.in_transaction:  # nested: part of the caller's
                yield self._db
                return
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
                self._db.execute("COMMIT")
            except BaseException:
                if self._db.in_transaction:  # a failed COMMIT (a full disk) leaves it open
                    self._db.execute("ROLLBACK")
                raise

    def unavailable(self, exc: BaseException) -> bool:
        return isinstance(exc, sqlite3.OperationalError) and (
            exc.sqlite_errorcode & 0xFF in UNAVAILABLE
        )

    def tables(self, db: sqlite3.Connection) -> set[str]:
        rows = db.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall()
        return {row["name"] for row in rows}

    def close(self) -> None:
        self.ready()
        with self._lock:
            db, self._db = self._db, _CLOSED
            if db is _CLOSED:
                return
            self.signal.close()
            if self.from_template:
                close_memory(db)
            else:
                db.close()
