"""In-memory stores made cheap to open: a fake per test (the pytest fixture) opens one.

Opening a ``:memory:`` store the plain way runs every schema statement, then SQLite
parses that schema again and compiles each query the first time it is used; together
they cost more than the rest of a short test. So, per process and per schema:

- a template store is built once, and a new connection is a page copy of it
  (``sqlite3.Connection.backup``);
- a closed store's connection is emptied back to exactly the template's rows and kept
  (a few at most) for the next store to open, with its parsed schema and compiled
  queries: the schema never changes, so they stay valid.

Either way a store opens empty: the same tables, indexes and rows as the schema's
statements make (``tests/test_database.py`` compares them).
"""

from __future__ import annotations

import functools
import sqlite3
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

KEEP = 4  # clean connections kept per schema; a test suite uses one at a time


@dataclass
class Template:
    """One schema's empty store, what it holds, and the clean connections kept."""

    db: sqlite3.Connection
    rows: dict[str, list[tuple[object, ...]]]  # the tables with rows, and their rows
    written: str  # the names of the other tables that have rows now, in one query
    kept: list[sqlite3.Connection] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


@functools.cache
def template(schemas: tuple[str, ...]) -> Template:
    """The schema applied once per process; never written after, so every copy of it is
    the same empty store."""
    db = sqlite3.connect(":memory:", isolation_level=None, check_same_thread=False)
    db.execute("BEGIN IMMEDIATE")
    for statement in schemas:
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


def open_store(
    schemas: tuple[str, ...], configure: Callable[[sqlite3.Connection], None]
) -> sqlite3.Connection:
    """An empty in-memory store with ``schemas``; ``configure`` sets up a new connection
    (functions, pragmas), and must do the same for every store of these schemas."""
    kind = template(schemas)
    with kind.lock:
        if kind.kept:
            return kind.kept.pop()
        db = sqlite3.connect(":memory:", isolation_level=None, check_same_thread=False)
        configure(db)
        kind.db.backup(db)
    return db


def close_store(schemas: tuple[str, ...], db: sqlite3.Connection) -> None:
    """Done with ``db``: empty it back to the template and keep it, or close it.

    Only the tables written to are emptied (a test writes a few of them): one query
    finds them, cheaper than a statement per table."""
    kind = template(schemas)
    try:
        if db.in_transaction:
            db.execute("ROLLBACK")
        db.execute("BEGIN IMMEDIATE")
        written = [str(name) for (name,) in db.execute(kind.written).fetchall()]
        for table in (*written, *kind.rows):
            db.execute(f'DELETE FROM "{table}"')
        for table, rows in kind.rows.items():
            marks = ", ".join("?" * len(rows[0]))
            db.executemany(f'INSERT INTO "{table}" VALUES ({marks})', rows)
        db.execute("COMMIT")
    except sqlite3.Error:
        db.close()
        return
    with kind.lock:
        if len(kind.kept) < KEEP:
            kind.kept.append(db)
            return
    db.close()
