"""Uploaded files' rows (``mock_server/media/uploads.py`` owns their meaning)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict

import orjson

from mock_server.domain.models import FileRecord
from mock_server.store.database import ALL, Conn, Database, json_text, record

FILE_COLUMNS = ("file_id", "key", "upload_path", "file_name", "uploaded", "expires")


class FileTables(Database):
    def _file_rows(self, where: str, args: tuple[object, ...]) -> list[FileRecord]:
        """Rows of ``files`` as records: the columns, plus what ``data`` holds."""
        rows = self.query(f"SELECT * FROM files WHERE {where}", args)
        return [record(FileRecord, r, **orjson.loads(r["data"])) for r in rows]

    def get_file(self, file_id: str) -> FileRecord | None:
        rows = self._file_rows("file_id = ?", (file_id,))
        return rows[0] if rows else None

    def live_files(
        self, key: str, now: float, offset: int = 0, limit: int = ALL
    ) -> list[FileRecord]:
        """A key's unexpired files, newest first."""
        where = "key = ? AND expires > ? ORDER BY uploaded DESC, file_id LIMIT ? OFFSET ?"
        return self._file_rows(where, (key, now, limit, offset))

    def count_files(self, key: str, now: float) -> int:
        rows = self.query(
            "SELECT COUNT(*) AS n FROM files WHERE key = ? AND expires > ?", (key, now)
        )
        return int(rows[0]["n"])

    def expired_files(self, now: float) -> list[FileRecord]:
        return self._file_rows("expires <= ?", (now,))

    def all_files(self) -> list[FileRecord]:
        return self._file_rows("TRUE", ())

    def put_file(self, record: FileRecord, replaces: Iterable[str] = ()) -> None:
        """Insert a file row, deleting the rows it replaces, in one transaction."""
        row = asdict(record)
        data = {k: v for k, v in row.items() if k not in FILE_COLUMNS}
        with self.transaction() as db:
            self._delete(db, replaces)
            db.execute(
                "INSERT INTO files VALUES (?, ?, ?, ?, ?, ?, ?)",
                (*(row[c] for c in FILE_COLUMNS), json_text(data)),
            )

    def delete_files(self, file_ids: Iterable[str]) -> None:
        with self.transaction() as db:
            self._delete(db, file_ids)

    def _delete(self, db: Conn, file_ids: Iterable[str]) -> None:
        for file_id in file_ids:
            db.execute("DELETE FROM files WHERE file_id = ?", (file_id,))
