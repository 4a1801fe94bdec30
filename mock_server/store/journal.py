"""The request journal, stored a batch per row and numbered by the store.

One insert a second however many requests the batch holds, so journaling a busy poll
loop costs the database almost nothing. Reads (rare: the control API) decode batches a
few at a time; rows inside a batch have no index, so which of them a reader wants is its
own filter (runtime/journal.py ``matches``). The numbers come from ``counters`` in the
batch's own transaction, so rows of several processes interleave but none is lost or
overwritten.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import orjson

from mock_server.store.database import ALL, Database

# Batches decoded per query while paging (a batch is up to a second of requests).
JOURNAL_PAGE_BATCHES = 8


def _text(value: object) -> str:
    """Bodies are stored as text; bytes that are not UTF-8 are shown replaced."""
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    raise TypeError(type(value).__name__)


class JournalTables(Database):
    def append_journal(self, rows: Sequence[Sequence[Any]], keep: int) -> None:
        """Number a batch of rows (their first field), add it, and drop batches wholly
        older than the newest ``keep``."""
        if not rows:
            return
        with self.transaction() as db:
            last = db.execute(
                "UPDATE counters SET journal_seq = journal_seq + ? WHERE id = 1 "
                "RETURNING journal_seq",
                (len(rows),),
            ).fetchone()["journal_seq"]
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
        return int(self.query("SELECT journal_seq FROM counters WHERE id = 1")[0]["journal_seq"])

    def journal_rows(self, after: int = 0, newest_first: bool = False) -> Iterator[list[Any]]:
        """Every stored row with seq above ``after``, oldest first (or newest first): a
        reader that stops early (a page, the newest few) decodes few batches."""
        order = "DESC" if newest_first else "ASC"
        low, high = after, ALL  # the batches not read yet: last_seq between them
        while True:
            batches = self.query(
                "SELECT last_seq, data FROM journal_batches WHERE last_seq > ? AND last_seq < ? "
                f"ORDER BY last_seq {order} LIMIT ?",
                (low, high, JOURNAL_PAGE_BATCHES),
            )
            for batch in batches:
                rows = orjson.loads(batch["data"])
                for row in reversed(rows) if newest_first else rows:
                    if row[0] > after:
                        yield row
            if len(batches) < JOURNAL_PAGE_BATCHES:
                return
            if newest_first:
                high = batches[-1]["last_seq"]
            else:
                low = batches[-1]["last_seq"]

    def purge_journal(self, task_ids: set[str]) -> int:
        """Remove the rows of these tasks (the journal keeps at most ``--journal-limit``
        rows, so this reads a bounded amount); how many were removed."""
        removed = 0
        with self.transaction() as db:
            for batch in db.execute("SELECT last_seq, data FROM journal_batches").fetchall():
                rows = orjson.loads(batch["data"])
                kept = [row for row in rows if row[3] not in task_ids]
                removed += len(rows) - len(kept)
                if not kept:
                    db.execute(
                        "DELETE FROM journal_batches WHERE last_seq = ?", (batch["last_seq"],)
                    )
                elif len(kept) < len(rows):
                    db.execute(
                        "UPDATE journal_batches SET data = ? WHERE last_seq = ?",
                        (orjson.dumps(kept), batch["last_seq"]),
                    )
        return removed
