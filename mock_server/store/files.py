"""Uploaded files' rows (``mock_server/media/uploads.py`` owns their meaning)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict
from typing import Any

import orjson

from mock_server.domain.models import FileRecord
from mock_server.store.database import Database

FILES_SCHEMA = """
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
"""
FILE_COLUMNS = ("file_id", "key", "upload_path", "file_name", "uploaded", "expires")


class FileTables(Database):
    # A row is a dict of FILE_COLUMNS plus its data.

    def _file_rows(self, where: str, args: tuple[Any, ...]) -> list[FileRecord]:
        rows = self.query(f"SELECT * FROM files WHERE {where}", args)
        return [
            FileRecord(**{c: r[c] for c in FILE_COLUMNS}, **orjson.loads(r["data"])) for r in rows
        ]

    def get_file(self, file_id: str) -> FileRecord | None:
        rows = self._file_rows("file_id = ?", (file_id,))
        return rows[0] if rows else None

    def live_files(
        self, key: str, now: float, offset: int = 0, limit: int = -1
    ) -> list[FileRecord]:
        """A key's unexpired files, newest first."""
        where = "key = ? AND expires > ? ORDER BY uploaded DESC, file_id LIMIT ? OFFSET ?"
        return self._file_rows(where, (key, now, limit, offset))

    def count_files(self, key: str, now: float) -> int:
        rows = self.query("SELECT COUNT(*) FROM files WHERE key = ? AND expires > ?", (key, now))
        return int(rows[0][0])

    def expired_files(self, now: float) -> list[FileRecord]:
        return self._file_rows("expires <= ?", (now,))

    def all_files(self) -> list[FileRecord]:
        return self._file_rows("1 = 1", ())

    def put_file(self, record: FileRecord, replaces: Iterable[str] = ()) -> None:
        """Insert a file row, deleting the rows it replaces, in one transaction."""
        row = asdict(record)
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

    # -- the callback outbox (mock_server/delivery/outbox.py) ------------------------------
