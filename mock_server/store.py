"""Durable state: SQLite (WAL) on disk by default, ``:memory:`` for tests.

Every acknowledged change is committed before the answer leaves the server, so a
``kill -9`` at any moment loses nothing a client was told about. WAL with
``synchronous=NORMAL`` is enough for that: a process crash never loses a committed
transaction (only a power cut can lose the last few). Reads happen once, at start; the
service keeps what it needs in memory, so polls never touch the store.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import orjson

from mock_server.models import CreateRequest, LedgerEntry, Plan, Task

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
CREATE TABLE IF NOT EXISTS files (
    file_id TEXT PRIMARY KEY,
    key TEXT NOT NULL,
    upload_path TEXT NOT NULL,
    file_name TEXT NOT NULL,
    uploaded REAL NOT NULL,
    expires REAL NOT NULL,
    data TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS files_by_key ON files (key, expires);
CREATE TABLE IF NOT EXISTS callbacks (
    task_id TEXT PRIMARY KEY,
    url TEXT NOT NULL,
    body BLOB NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_due REAL,
    state TEXT NOT NULL DEFAULT 'pending',
    claimed_by TEXT,
    lease_until REAL
);
CREATE TABLE IF NOT EXISTS journal (
    seq INTEGER PRIMARY KEY,
    at REAL NOT NULL,
    key TEXT,
    task_id TEXT,
    method TEXT NOT NULL,
    path TEXT NOT NULL,
    status INTEGER NOT NULL,
    latency_ms REAL NOT NULL,
    request BLOB,
    response BLOB,
    notes BLOB
);
CREATE INDEX IF NOT EXISTS journal_by_task ON journal (task_id);
CREATE TABLE IF NOT EXISTS scenarios (position INTEGER PRIMARY KEY, data TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS callback_attempts (
    task_id TEXT NOT NULL,
    number INTEGER NOT NULL,
    data TEXT NOT NULL,
    PRIMARY KEY (task_id, number)
);
"""
TABLES_CLEARED_ON_RESET = (
    "journal",
    "scenarios",
    "tasks",
    "ledger",
    "keys",
    "meta",
    "files",
    "callbacks",
    "callback_attempts",
)
FILE_COLUMNS = ("file_id", "key", "upload_path", "file_name", "uploaded", "expires")


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


class SqliteStore:
    """One SQLite database; ``path`` may be ``:memory:``."""

    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        self._db.row_factory = sqlite3.Row
        self._lock = threading.Lock()
        if self.path != ":memory:":
            self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute("PRAGMA busy_timeout=5000")
        self._db.executescript(SCHEMA)

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

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

    def reset(self) -> None:
        with self.transaction() as db:
            for table in TABLES_CLEARED_ON_RESET:
                db.execute(f"DELETE FROM {table}")

    # -- uploaded files (mock_server/uploads.py): a row is a dict of FILE_COLUMNS + data --

    def _file_rows(self, where: str, args: tuple[Any, ...]) -> list[dict[str, Any]]:
        with self._lock:
            rows = self._db.execute(f"SELECT * FROM files WHERE {where}", args).fetchall()
        return [{**{c: r[c] for c in FILE_COLUMNS}, **orjson.loads(r["data"])} for r in rows]

    def get_file(self, file_id: str) -> dict[str, Any] | None:
        rows = self._file_rows("file_id = ?", (file_id,))
        return rows[0] if rows else None

    def live_files(
        self, key: str, now: float, offset: int = 0, limit: int = -1
    ) -> list[dict[str, Any]]:
        """A key's unexpired files, newest first."""
        where = "key = ? AND expires > ? ORDER BY uploaded DESC, file_id LIMIT ? OFFSET ?"
        return self._file_rows(where, (key, now, limit, offset))

    def count_files(self, key: str, now: float) -> int:
        with self._lock:
            row = self._db.execute(
                "SELECT COUNT(*) FROM files WHERE key = ? AND expires > ?", (key, now)
            ).fetchone()
        return int(row[0])

    def expired_files(self, now: float) -> list[dict[str, Any]]:
        return self._file_rows("expires <= ?", (now,))

    def all_files(self) -> list[dict[str, Any]]:
        return self._file_rows("1 = 1", ())

    def put_file(self, row: dict[str, Any], replaces: Iterable[str] = ()) -> None:
        """Insert a file row, deleting the rows it replaces, in one transaction."""
        data = {k: v for k, v in row.items() if k not in FILE_COLUMNS}
        with self.transaction() as db:
            db.executemany("DELETE FROM files WHERE file_id = ?", [(i,) for i in replaces])
            db.execute(
                "INSERT INTO files VALUES (?, ?, ?, ?, ?, ?, ?)",
                (*(row[c] for c in FILE_COLUMNS), orjson.dumps(data)),
            )

    def delete_files(self, file_ids: Iterable[str]) -> None:
        with self.transaction() as db:
            db.executemany("DELETE FROM files WHERE file_id = ?", [(i,) for i in file_ids])

    # -- the callback outbox (mock_server/callbacks.py) ------------------------------

    def callbacks(self, task_id: str | None = None, pending: bool = False) -> list[sqlite3.Row]:
        query = "SELECT * FROM callbacks WHERE (? IS NULL OR task_id = ?)"
        query += " AND state = 'pending'" if pending else ""
        with self._lock:
            return self._db.execute(query + " ORDER BY task_id", (task_id, task_id)).fetchall()

    def claim_callback(
        self,
        task_id: str,
        attempts: int,
        owner: str,
        lease_until: float,
        now: float,
        steal_from: str | None = None,
    ) -> bool:
        """Take attempt ``attempts + 1`` of a pending delivery under a lease; True if ours.

        One conditional UPDATE, atomic under SQLite's write lock (and PostgreSQL's row
        lock): of several processes racing for one attempt, exactly one wins.
        ``steal_from`` breaks the claim of an owner known to be dead.
        """
        with self.transaction() as db:
            cursor = db.execute(
                "UPDATE callbacks SET claimed_by = ?, lease_until = ? "
                "WHERE task_id = ? AND state = 'pending' AND attempts = ? AND "
                "(claimed_by IS NULL OR claimed_by IN (?, ?) OR lease_until < ?)",
                (owner, lease_until, task_id, attempts, owner, steal_from, now),
            )
            return cursor.rowcount == 1

    def record_callback_attempt(
        self,
        task_id: str,
        owner: str,
        attempt: dict[str, Any],
        state: str,
        next_due: float | None,
    ) -> bool:
        """Store an attempt and the delivery's next step, if ``owner`` still holds it."""
        number = attempt["number"]
        with self.transaction() as db:
            cursor = db.execute(
                "UPDATE callbacks SET attempts = ?, state = ?, next_due = ?, claimed_by = NULL, "
                "lease_until = NULL WHERE task_id = ? AND claimed_by = ? AND attempts = ?",
                (number, state, next_due, task_id, owner, number - 1),
            )
            if cursor.rowcount != 1:
                return False
            db.execute(
                "INSERT INTO callback_attempts VALUES (?, ?, ?)",
                (task_id, number, orjson.dumps(attempt)),
            )
            return True

    def release_callback_claims(self, owner: str) -> None:
        with self.transaction() as db:
            db.execute(
                "UPDATE callbacks SET claimed_by = NULL, lease_until = NULL WHERE claimed_by = ?",
                (owner,),
            )

    def callback_attempts(self, task_id: str | None = None) -> list[dict[str, Any]]:
        with self._lock:
            rows = self._db.execute(
                "SELECT task_id, data FROM callback_attempts WHERE (? IS NULL OR task_id = ?)",
                (task_id, task_id),
            ).fetchall()
        return [{"task_id": r["task_id"], **orjson.loads(r["data"])} for r in rows]

    def append_journal(self, rows: Sequence[tuple[Any, ...]], keep: int) -> None:
        """Add journal rows and drop all but the newest ``keep`` (the journal is bounded)."""
        marks = ", ".join("?" * len(rows[0])) if rows else ""
        with self.transaction() as db:
            db.executemany(f"INSERT OR REPLACE INTO journal VALUES ({marks})", rows)
            db.execute(
                "DELETE FROM journal WHERE seq <= (SELECT MAX(seq) FROM journal) - ?", (keep,)
            )

    def journal(
        self, key: str | None = None, task_id: str | None = None, limit: int = 1000
    ) -> list[sqlite3.Row]:
        where = " AND ".join(f"{c} = ?" for c, v in (("key", key), ("task_id", task_id)) if v)
        args = [v for v in (key, task_id) if v]
        query = "SELECT * FROM journal" + (f" WHERE {where}" if where else "")
        with self._lock:
            rows = self._db.execute(f"{query} ORDER BY seq DESC LIMIT ?", (*args, limit))
            return list(reversed(rows.fetchall()))

    def max_journal_seq(self) -> int:
        with self._lock:
            row = self._db.execute("SELECT MAX(seq) AS seq FROM journal").fetchone()
        return int(row["seq"] or 0)

    def put_scenarios(self, rules: list[dict[str, Any]]) -> None:
        with self.transaction() as db:
            db.execute("DELETE FROM scenarios")
            db.executemany(
                "INSERT INTO scenarios VALUES (?, ?)",
                [(i, orjson.dumps(r)) for i, r in enumerate(rules)],
            )

    def scenarios(self) -> list[dict[str, Any]]:
        with self._lock:
            rows = self._db.execute("SELECT data FROM scenarios ORDER BY position").fetchall()
        return [orjson.loads(r["data"]) for r in rows]

    def close(self) -> None:
        with self._lock:
            self._db.close()
