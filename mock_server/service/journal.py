"""The journal: every API request with its answer and contract notes.

A request is recorded on the request path with one list append (``record``); the batch
is written to the store off it (``flush``, from the background step). Readers that must
see their own requests flush first; the dashboard reads what is written and never
writes on the request path.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from itertools import islice
from typing import Any

from mock_server.runtime.config import Config
from mock_server.runtime.journal import Entry, Journal, Row, decode, matches
from mock_server.service.cache import PollTimes
from mock_server.service.paging import decode_cursor, encode_cursor
from mock_server.store.protocols import Store


class RequestJournal:
    """The journal of one fake, as one process writes and reads it."""

    def __init__(self, config: Config, store: Store) -> None:
        self.config = config
        self.store = store
        self.batch = Journal(self._write)
        self.last_poll = PollTimes(config.cache_tasks)

    def _write(self, rows: Sequence[Row]) -> None:
        self.store.append_journal(rows, self.config.journal_limit)

    # -- writing ------------------------------------------------------------------------

    def record(self, entry: Entry) -> None:
        """Journal one request (written in a batch off the request path)."""
        self.batch.record(entry)

    def note_poll(self, path: str, at: float) -> float | None:
        """Seconds since the last poll of ``path`` (None for the first): for the note on
        clients that poll too fast."""
        last = self.last_poll.seen(path, at)
        return None if last is None else at - last

    @property
    def pending(self) -> bool:
        return bool(self.batch.pending)

    def flush(self) -> None:
        """Write the pending batch (safe from a worker thread)."""
        self.batch.flush()

    def forget(self) -> None:
        """After a reset: nothing pending, no poll remembered."""
        self.batch.pending.clear()
        self.last_poll.clear()

    def purge(self, task_ids: Iterable[str]) -> int:
        """Remove the rows of these tasks (retention); how many went."""
        return self.store.purge_journal(set(task_ids))

    # -- reading ------------------------------------------------------------------------

    def page(
        self,
        key: str | None = None,
        task_id: str | None = None,
        limit: int = 100,
        cursor: str | None = None,
    ) -> tuple[list[dict[str, Any]], str | None]:
        """Up to ``limit`` entries oldest first after ``cursor``, and the next page's
        cursor (None when this page was not full)."""
        self.flush()
        after = decode_cursor(cursor, "requests", (int,))
        rows = list(islice(self._kept(key, task_id, int(after[0]) if after else 0), limit))
        following = (rows[-1][0],) if len(rows) == limit else None
        return [decode(row) for row in rows], encode_cursor("requests", following)

    def newest(
        self, key: str | None = None, task_id: str | None = None, limit: int = 1000
    ) -> list[dict[str, Any]]:
        """The newest ``limit`` entries that match, oldest first (after a flush)."""
        self.flush()
        return self.written(key, task_id, limit)

    def written(
        self, key: str | None = None, task_id: str | None = None, limit: int = 1000
    ) -> list[dict[str, Any]]:
        """The newest ``limit`` entries the store holds, oldest first; no flush, so a
        reader never writes on the request path."""
        rows = list(islice(self._kept(key, task_id, newest_first=True), limit))
        return [decode(row) for row in reversed(rows)]

    def _kept(
        self, key: str | None, task_id: str | None, after: int = 0, newest_first: bool = False
    ) -> Iterator[list[Any]]:
        """The stored rows that match among the newest ``--journal-limit``: the store
        drops only whole batches past it, so it may hold a few older rows, not shown."""
        oldest = self.store.journal_head() - self.config.journal_limit
        rows = self.store.journal_rows(max(after, oldest), newest_first)
        return (row for row in rows if matches(row, key, task_id))

    def rows(self, key: str | None, task_id: str | None) -> Iterable[list[Any]]:
        """Every stored row that matches, as the store keeps it (the timeline's source)."""
        return (row for row in self.store.journal_rows() if matches(row, key, task_id))

    def head(self) -> object:
        """What changes when an entry is written (a dashboard section's version)."""
        return self.store.journal_head()
