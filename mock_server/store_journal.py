"""The request journal's rows and the scenario rule book, as stored."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from typing import Any

import orjson

from mock_server.database import Database

JOURNAL_SCHEMA = """
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
"""


class JournalTables(Database):
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
