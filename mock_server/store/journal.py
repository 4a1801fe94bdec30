"""The request journal's rows and the scenario rule book, as stored."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import orjson

from mock_server.store.database import Database

JOURNAL_SCHEMA = """
CREATE TABLE IF NOT EXISTS journal_batches (
    last_seq INTEGER PRIMARY KEY,
    first_seq INTEGER NOT NULL,
    data BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS scenarios (position INTEGER PRIMARY KEY, data TEXT NOT NULL);
"""


def _text(value: object) -> str:
    """Bodies are stored as text; bytes that are not UTF-8 are shown replaced."""
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    raise TypeError(type(value).__name__)


class JournalTables(Database):
    """The journal is stored a batch per row: one insert a second however many requests
    the batch holds, so journaling a busy poll loop costs SQLite almost nothing. Reads
    (rare: the control API) decode batches and filter."""

    def append_journal(self, rows: Sequence[Sequence[Any]], keep: int) -> None:
        """Add a batch of rows and drop batches wholly older than the newest ``keep``."""
        if not rows:
            return
        data = orjson.dumps(rows, default=_text)
        with self.transaction() as db:
            db.execute(
                "INSERT OR REPLACE INTO journal_batches VALUES (?, ?, ?)",
                (rows[-1][0], rows[0][0], data),
            )
            db.execute("DELETE FROM journal_batches WHERE last_seq <= ?", (rows[-1][0] - keep,))

    def journal(
        self,
        key: str | None = None,
        task_id: str | None = None,
        limit: int = 1000,
        keep: int | None = None,
    ) -> list[list[Any]]:
        """The newest ``limit`` rows that match, oldest first."""
        with self._lock:
            batches = self._db.execute(
                "SELECT data FROM journal_batches ORDER BY last_seq DESC"
            ).fetchall()
        found: list[list[Any]] = []
        newest = None
        for batch in batches:
            rows = orjson.loads(batch["data"])
            newest = newest if newest is not None else rows[-1][0]
            for row in reversed(rows):
                if keep is not None and row[0] <= newest - keep:
                    return found[::-1]
                if (key is None or row[2] == key) and (task_id is None or row[3] == task_id):
                    found.append(row)
                    if len(found) >= limit:
                        return found[::-1]
        return found[::-1]

    def max_journal_seq(self) -> int:
        with self._lock:
            row = self._db.execute("SELECT MAX(last_seq) AS seq FROM journal_batches").fetchone()
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
