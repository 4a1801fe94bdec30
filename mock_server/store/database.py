"""One SQLite database shared by the store's tables: connection, settings, transactions.

WAL with ``synchronous=NORMAL``: a process crash (``kill -9``) never loses a committed
transaction, only a power cut can lose the last few. One lock serialises this process's
use of the connection; ``BEGIN IMMEDIATE`` and ``busy_timeout`` serialise processes.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


class Database:
    """The connection; table mixins (``store_*.py``) add their schema and queries."""

    SCHEMAS: tuple[str, ...] = ()
    TABLES: tuple[str, ...] = ()  # what ``reset`` empties

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
        for schema in self.SCHEMAS:
            self._db.executescript(schema)

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

    def reset(self) -> None:
        with self.transaction() as db:
            for table in self.TABLES:
                db.execute(f"DELETE FROM {table}")

    def close(self) -> None:
        with self._lock:
            self._db.close()
