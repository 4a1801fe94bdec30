"""Durable state: SQLite (WAL) on disk by default, ``:memory:`` for tests.

Every acknowledged change is committed before the answer leaves the server, so a
``kill -9`` at any moment loses nothing a client was told about. WAL with
``synchronous=NORMAL`` is enough for that: a process crash never loses a committed
transaction (only a power cut can lose the last few). Reads happen once, at start; the
service keeps what it needs in memory, so polls never touch the store.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import orjson

from mock_server.domain.models import CreateRequest, LedgerEntry, Plan, Task
from mock_server.store.database import Database
from mock_server.store.files import FILES_SCHEMA, FileTables
from mock_server.store.journal import JOURNAL_SCHEMA, JournalTables
from mock_server.store.outbox import OUTBOX_SCHEMA, OutboxTables

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS keys (
    key TEXT PRIMARY KEY,
    data TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS tasks (
    id TEXT PRIMARY KEY,
    key TEXT NOT NULL,
    created REAL NOT NULL,
    data TEXT NOT NULL,
    plan TEXT NOT NULL,
    settled INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS tasks_unsettled ON tasks (settled) WHERE settled = 0;
CREATE TABLE IF NOT EXISTS ledger (
    seq INTEGER PRIMARY KEY,
    at REAL NOT NULL,
    key TEXT NOT NULL,
    kind TEXT NOT NULL,
    amount TEXT NOT NULL,
    task_id TEXT,
    note TEXT
);
"""


@dataclass
class Snapshot:
    """Everything the service rebuilds its memory from at start."""

    meta: dict[str, str] = field(default_factory=dict)
    keys: dict[str, dict[str, Any]] = field(default_factory=dict)
    tasks: list[Task] = field(default_factory=list)
    ledger: list[LedgerEntry] = field(default_factory=list)


def task_to_row(task: Task) -> tuple[str, str, float, bytes, bytes, int]:
    data = {
        "request": task.request.to_json(),
        "reserved": str(task.reserved),
        "input_seconds": str(task.input_seconds),
        "reference_seconds": [str(s) for s in task.reference_seconds],
        "estimated_time": task.estimated_time,
        "user_group": task.user_group,
    }
    return (
        task.id,
        task.key,
        task.plan.created,
        orjson.dumps(data),
        orjson.dumps(task.plan.to_json()),
        int(task.settled),
    )


def task_from_row(row: sqlite3.Row) -> Task:
    data = orjson.loads(row["data"])
    return Task(
        id=row["id"],
        key=row["key"],
        request=CreateRequest.from_json(data["request"]),
        plan=Plan.from_json(orjson.loads(row["plan"])),
        reserved=Decimal(data["reserved"]),
        input_seconds=Decimal(data["input_seconds"]),
        reference_seconds=tuple(Decimal(s) for s in data["reference_seconds"]),
        estimated_time=data["estimated_time"],
        user_group=data["user_group"],
        settled=bool(row["settled"]),
    )


def _entry_row(entry: LedgerEntry) -> tuple[int, float, str, str, str, str | None, str | None]:
    return (
        entry.seq,
        entry.at,
        entry.key,
        entry.kind,
        str(entry.amount),
        entry.task_id,
        entry.note,
    )


class SqliteStore(FileTables, OutboxTables, JournalTables, Database):
    """One SQLite database; ``path`` may be ``:memory:``. Tasks, ledger, keys and meta
    live here; files, the callback outbox and the journal in their own modules."""

    SCHEMAS = (SCHEMA, FILES_SCHEMA, OUTBOX_SCHEMA, JOURNAL_SCHEMA)
    TABLES = (
        "journal_batches",
        "scenarios",
        "tasks",
        "ledger",
        "keys",
        "meta",
        "files",
        "callbacks",
        "callback_attempts",
    )

    def load(self) -> Snapshot:
        db = self._db
        return Snapshot(
            meta={r["name"]: r["value"] for r in db.execute("SELECT name, value FROM meta")},
            keys={r["key"]: orjson.loads(r["data"]) for r in db.execute("SELECT * FROM keys")},
            tasks=[
                task_from_row(r) for r in db.execute("SELECT * FROM tasks ORDER BY created, id")
            ],
            ledger=self.ledger_entries(),
        )

    def ledger_entries(self, key: str | None = None) -> list[LedgerEntry]:
        query, args = "SELECT * FROM ledger ORDER BY seq", ()  # type: tuple[str, tuple[str, ...]]
        if key is not None:
            query, args = "SELECT * FROM ledger WHERE key = ? ORDER BY seq", (key,)
        with self._lock:
            rows = self._db.execute(query, args).fetchall()
        return [
            LedgerEntry(
                r["seq"],
                r["at"],
                r["key"],
                r["kind"],
                Decimal(r["amount"]),
                r["task_id"],
                r["note"],
            )
            for r in rows
        ]

    def insert_task(self, task: Task, entries: Iterable[LedgerEntry]) -> None:
        """The task and its reservation in one transaction: both or neither survive."""
        with self.transaction() as db:
            db.execute("INSERT INTO tasks VALUES (?, ?, ?, ?, ?, ?)", task_to_row(task))
            db.executemany(
                "INSERT INTO ledger VALUES (?, ?, ?, ?, ?, ?, ?)", [_entry_row(e) for e in entries]
            )

    def update_plan(self, task_id: str, plan: Plan) -> None:
        with self.transaction() as db:
            db.execute(
                "UPDATE tasks SET plan = ? WHERE id = ?", (orjson.dumps(plan.to_json()), task_id)
            )

    def settle(
        self,
        settlements: Iterable[tuple[str, list[LedgerEntry]]],
        callbacks: Iterable[tuple[str, str, bytes, float]] = (),
    ) -> None:
        """Mark tasks settled together with their ledger entries, in one transaction.

        ``callbacks`` (task id, url, body, first attempt due) enter the outbox in the same
        transaction: a crash can neither lose a callback nor send one before billing.
        """
        with self.transaction() as db:
            for task_id, entries in settlements:
                db.execute("UPDATE tasks SET settled = 1 WHERE id = ?", (task_id,))
                db.executemany(
                    "INSERT INTO ledger VALUES (?, ?, ?, ?, ?, ?, ?)",
                    [_entry_row(e) for e in entries],
                )
            db.executemany(
                "INSERT OR IGNORE INTO callbacks (task_id, url, body, next_due) "
                "VALUES (?, ?, ?, ?)",
                callbacks,
            )

    def put_keys(self, keys: dict[str, dict[str, Any]], entries: Iterable[LedgerEntry]) -> None:
        with self.transaction() as db:
            db.executemany(
                "INSERT OR REPLACE INTO keys VALUES (?, ?)",
                [(k, orjson.dumps(v)) for k, v in keys.items()],
            )
            db.executemany(
                "INSERT INTO ledger VALUES (?, ?, ?, ?, ?, ?, ?)", [_entry_row(e) for e in entries]
            )

    def set_meta(self, **values: str) -> None:
        with self.transaction() as db:
            db.executemany("INSERT OR REPLACE INTO meta VALUES (?, ?)", values.items())
