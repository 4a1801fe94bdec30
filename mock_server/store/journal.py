"""The request journal's rows, stored a batch per row, numbered by the store."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import orjson

from mock_server.store.database import Database

JOURNAL_SCHEMA = """
CREATE TABLE IF NOT EXISTS journal_batches (
    last_seq INTEGER PRIMARY KEY,
    first_seq INTEGER NOT NULL,
    data BLOB NOT NULL
);
"""


def _text(value: object) -> str:
    """Bodies are stored as text; bytes that are not UTF-8 are shown replaced."""
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    raise TypeError(type(value).__name__)


# Batches decoded per query while paging (a batch is up to a second of requests).
JOURNAL_PAGE_BATCHES = 8


class JournalTables(Database):
    """The journal is stored a batch per row: one insert a second however many requests
    the batch holds, so journaling a busy poll loop costs SQLite almost nothing. Reads
    (rare: the control API) decode batches and filter."""

    def append_journal(self, rows: Sequence[Sequence[Any]], keep: int) -> None:
        """Number a batch of rows (their first field) from the store's sequence, add it,
        and drop batches wholly older than the newest ``keep``.

        The numbers are taken in the batch's own transaction, so rows of several
        processes interleave but none is lost or overwritten.
        """
        if not rows:
            return
        with self.transaction() as db:
            last = db.execute(
                "UPDATE state SET journal_seq = journal_seq + ? WHERE id = 1 RETURNING journal_seq",
                (len(rows),),
            ).fetchone()[0]
            first = last - len(rows) + 1
            numbered = [[first + i, *row[1:]] for i, row in enumerate(rows)]
            db.execute(
                "INSERT INTO journal_batches VALUES (?, ?, ?)",
                (last, first, orjson.dumps(numbered, default=_text)),
            )
            db.execute("DELETE FROM journal_batches WHERE last_seq <= ?", (last - keep,))

    def journal_head(self) -> int:
        """The number of the newest journal row written (0 before any): it moves when a
        batch lands, so a reader can tell the journal changed without decoding it."""
        return int(self.query("SELECT journal_seq FROM state WHERE id = 1")[0][0])

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

    def journal_page(
        self,
        key: str | None,
        task_id: str | None,
        after: int,
        limit: int,
        keep: int,
    ) -> list[list[Any]]:
        """Up to ``limit`` rows that match with seq above ``after``, oldest first, among
        the newest ``keep``; batches are read a few at a time, never all at once."""
        newest = int(self.query("SELECT journal_seq FROM state WHERE id = 1")[0][0])
        after = max(after, newest - keep)
        found: list[list[Any]] = []
        while True:
            batches = self.query(
                "SELECT last_seq, data FROM journal_batches WHERE last_seq > ? "
                "ORDER BY last_seq LIMIT ?",
                (after, JOURNAL_PAGE_BATCHES),
            )
            for batch in batches:
                for row in orjson.loads(batch["data"]):
                    if row[0] <= after:
                        continue
                    if (key is None or row[2] == key) and (task_id is None or row[3] == task_id):
                        found.append(row)
                        if len(found) >= limit:
                            return found
            if len(batches) < JOURNAL_PAGE_BATCHES:
                return found
            after = batches[-1]["last_seq"]

    def purge_journal(self, task_ids: set[str]) -> int:
        """Remove the rows of these tasks (the journal keeps at most ``--journal-limit``
        rows, so this reads a bounded amount); how many were removed."""
        removed = 0
        with self.transaction() as db:
            for batch in db.execute("SELECT last_seq, data FROM journal_batches").fetchall():
                rows = orjson.loads(batch["data"])
                kept = [row for row in rows if row[3] not in task_ids]
                if len(kept) == len(rows):
                    continue
                removed += len(rows) - len(kept)
                if kept:
                    db.execute(
                        "UPDATE journal_batches SET data = ? WHERE last_seq = ?",
                        (orjson.dumps(kept), batch["last_seq"]),
                    )
                else:
                    db.execute(
                        "DELETE FROM journal_batches WHERE last_seq = ?", (batch["last_seq"],)
                    )
        return removed

    def journal_rows(
        self, key: str | None = None, task_id: str | None = None
    ) -> Iterator[list[Any]]:
        """Every stored row that matches, oldest first, read a few batches at a time."""
        after = 0
        while True:
            batches = self.query(
                "SELECT last_seq, data FROM journal_batches WHERE last_seq > ? "
                "ORDER BY last_seq LIMIT ?",
                (after, JOURNAL_PAGE_BATCHES),
            )
            for batch in batches:
                for row in orjson.loads(batch["data"]):
                    if (key is None or row[2] == key) and (task_id is None or row[3] == task_id):
                        yield row
            if len(batches) < JOURNAL_PAGE_BATCHES:
                return
            after = batches[-1]["last_seq"]
