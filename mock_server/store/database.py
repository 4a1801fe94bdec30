"""One store over a small dialect: the SQL is written once, in ``?`` placeholders, and
a ``Dialect`` (store/sqlite.py, store/postgresql.py) supplies only what really differs
between databases.

Every transaction that moves ``rev`` moves it first (``bump``): on PostgreSQL the
``state`` row's lock is then the fleet's write order, so such transactions commit in
``rev`` order (a process asking "what moved since rev N?" misses nothing) and never
deadlock on each other; SQLite's ``BEGIN IMMEDIATE`` serialises them anyway
(docs/ARCHITECTURE.md "The store is the source of truth").
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager
from typing import Any, Protocol, TypeVar

import orjson

from mock_server.runtime.faults import FaultLog
from mock_server.store import schema
from mock_server.store.migrations import Migration, found_version
from mock_server.store.records import StoreClosedError, StoreError, StoreUnavailable, reason

Conn = Any  # a DB-API connection whose ``execute`` takes ``?`` placeholders
Row = Mapping[str, Any]
R = TypeVar("R")
ALL = 2**62  # above any row number or count: a LIMIT both dialects read as "no limit"


class Dialect(Protocol):
    """What differs between databases, and nothing else: values and a few operations,
    used the same way whichever database is behind (no caller asks which it is)."""

    path: str  # the database, for messages (a URL without its password)
    types: Mapping[str, str]  # the schema's column types (store/schema.py)
    add: str  # exact decimal arithmetic and comparison on credits, as "{} op {}"
    sub: str
    ge: str
    skip_locked: str  # what makes a claim skip a row another transaction is claiming
    notify: str  # returned by every ``bump``: an expression telling the others at commit
    schema_lock: str  # taken before the schema is checked, so one process upgrades it
    from_template: bool  # opened as a copy of the schema (nothing to check or upgrade)
    shared: bool  # other processes may open the same store
    migrations: Mapping[int, Migration]  # store/migrations.py
    closed_errors: tuple[type[BaseException], ...]  # the driver's "used after close"
    signal: Any  # the change signal (store/protocols.py ``ChangeSignal``)

    def json_field(self, column: str, path: str, sql_type: str) -> str:
        """SQL reading ``path`` (dotted) from a JSON text column, as ``sql_type``."""
        ...

    def connect(self, write: bool) -> AbstractContextManager[Conn]:
        """A connection; for a write, in a transaction committed at the end of the block
        and rolled back if it raises."""
        ...

    def unavailable(self, exc: BaseException) -> bool:
        """Is ``exc`` the database failing for now (records.py ``StoreUnavailable``)?"""
        ...

    def ready(self) -> None:
        """The schema is checked or set up: what opening held for it may go."""
        ...

    def tables(self, db: Conn) -> set[str]: ...
    def close(self) -> None: ...


def json_text(value: object) -> str:
    return orjson.dumps(value).decode()


def record(cls: type[R], row: Row, **converted: Any) -> R:
    """A row as the domain's record of the same field names (``converted`` wins)."""
    names = [f.name for f in dataclasses.fields(cls)]  # type: ignore[arg-type]
    return cls(**{name: row[name] for name in names if name not in converted}, **converted)


def marks(count: int) -> str:
    return ", ".join("?" * count)


def matching(**columns: object) -> tuple[str, tuple[object, ...]]:
    """`` AND column = ?`` for each column given a value (None: any value)."""
    given = {name: value for name, value in columns.items() if value is not None}
    return "".join(f" AND {name} = ?" for name in given), tuple(given.values())


class Database:
    """The dialect's connections, the schema, and the one place a driver's exceptions
    become the store's (``_driver``); the aggregates' tables (store/*.py) add queries."""

    def __init__(self, dialect: Dialect) -> None:
        self.dialect = dialect
        self.path = dialect.path
        self.signal: Any = dialect.signal
        self.shared = dialect.shared
        self.faults = FaultLog(f"store {dialect.path}")
        self._closed = False
        try:
            if not dialect.from_template:
                self._migrate()
        except BaseException:
            dialect.close()
            raise
        finally:
            dialect.ready()

    @contextmanager
    def _driver(self, write: bool) -> Iterator[None]:
        """Where every statement runs and commits. A closed store is ``StoreClosedError``;
        a database that cannot do it now (``Dialect.unavailable``) is ``StoreUnavailable``,
        logged once per fault."""
        if self._closed:
            raise StoreClosedError(f"the store {self.path} is closed")
        try:
            yield
        except self.dialect.closed_errors as exc:
            raise StoreClosedError(f"the store {self.path} is closed") from exc
        except Exception as exc:
            if not self.dialect.unavailable(exc):
                raise
            why = reason(exc)
            self.faults.failed(why)
            raise StoreUnavailable(f"the store {self.path} is unavailable: {why}") from exc
        if write:  # a read that works says nothing of a disk that cannot be written
            self.faults.worked()

    @contextmanager
    def transaction(self) -> Iterator[Conn]:
        with self._driver(write=True), self.dialect.connect(write=True) as db:
            yield db

    def query(self, sql: str, args: Sequence[object] = ()) -> list[Row]:
        with self._driver(write=False), self.dialect.connect(write=False) as db:
            return list(db.execute(sql, tuple(args)).fetchall())

    def bump(self, db: Conn, *also: str) -> int:
        """Move ``rev`` (and the named counters to it) inside the caller's transaction;
        call it first there (the module's docstring says why)."""
        extra = "".join(f", {name} = rev + 1" for name in also)
        told = f", {self.dialect.notify}" if self.dialect.notify else ""
        sql = f"UPDATE state SET rev = rev + 1{extra} WHERE id = 1 RETURNING rev{told}"
        return int(db.execute(sql).fetchone()["rev"])  # one round trip, the notice with it

    def _migrate(self) -> None:
        """Create the schema, or upgrade an older layout to it, in one transaction."""
        with self.transaction() as db:
            if self.dialect.schema_lock:
                db.execute(self.dialect.schema_lock)
            found = found_version(db, self.dialect.tables(db))
            if found == schema.VERSION:
                return
            if found > schema.VERSION or (found and found not in self.dialect.migrations):
                raise StoreError(
                    f"the store {self.path} has schema {found}, this wanmock reads "
                    f"{schema.VERSION}; move it aside or pass another --db"
                )
            before, after = self.dialect.migrations.get(found, ((), ()))
            for step in (*before, *schema.statements(self.dialect.types), *after):
                if isinstance(step, str):
                    db.execute(step)
                else:
                    step(db)
            db.execute("UPDATE schema_version SET version = ?", (schema.VERSION,))

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self.dialect.close()
