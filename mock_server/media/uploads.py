"""The file service's domain: uploaded files per key, their quota, types and expiry.

Facts of the real service (SOURCES.md "Files"): files expire 72 hours after upload; a key
keeps at most 100 files (500 in the vip group); one file per request, at most 100 MB;
images (jpeg, png, gif, webp), any audio and any video are accepted; uploading a name that
already exists under the same path replaces the old file. Errors carry business codes
40001 (too large), 40002 (type not allowed), 40003 (quota exceeded), 40004 (URL download
failed) and 50001 (storage error). No web framework here: ``files.py`` is the HTTP face.
"""

from __future__ import annotations

import mimetypes
import re
import secrets
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from urllib.parse import quote

from contracts import facts
from mock_server.domain.models import FileRecord
from mock_server.runtime.clock import Clock
from mock_server.runtime.config import Config
from mock_server.store.protocols import Store

# The real service shows times in UTC+8 ("2025-10-09T00:00:00+08:00", SOURCES.md "Files").
SERVICE_TZ = timezone(timedelta(hours=8))
UPLOAD_PATH_RE = re.compile(r"[A-Za-z0-9._-]+(/[A-Za-z0-9._-]+)*")
MAGIC: tuple[tuple[int, bytes, str], ...] = (
    (0, b"\x89PNG", "image/png"),
    (0, b"\xff\xd8\xff", "image/jpeg"),
    (0, b"GIF8", "image/gif"),
    (8, b"WEBP", "image/webp"),
    (4, b"ftypqt", "video/quicktime"),
    (4, b"ftyp", "video/mp4"),
    (0, b"\x1a\x45\xdf\xa3", "video/webm"),
    (0, b"ID3", "audio/mpeg"),
)


class FileApiError(Exception):
    """An error of the file service: its business (or HTTP) code and message."""

    def __init__(self, code: int, msg: str) -> None:
        super().__init__(msg)
        self.code = code
        self.msg = msg

    @property
    def status(self) -> int:
        """HTTP status: a business code's first three digits (40001 -> 400), the fake's
        reading of the documented code table (SOURCES.md "Files")."""
        return self.code if self.code < 1000 else self.code // 100


def file_too_large(limit: int) -> FileApiError:
    """The file service's 40001: a file over the upload limit (``--max-file-bytes``)."""
    return FileApiError(40001, f"File too large: the limit is {limit} bytes")


def file_view(record: FileRecord, base_url: str) -> dict[str, Any]:
    """The ``data`` object of the real upload answer."""
    return {
        "file_id": record.file_id,
        "file_name": record.file_name,
        "original_name": record.original_name,
        "file_size": record.file_size,
        "mime_type": record.mime_type,
        "upload_path": record.upload_path,
        "file_url": f"{base_url}/files/{record.file_id}/{quote(record.file_name)}",
        "download_url": f"{base_url}/api/v1/files/download/{record.file_id}",
        "upload_time": service_time(record.uploaded),
        "expires_at": service_time(record.expires),
    }


def service_time(unix: float) -> str:
    return datetime.fromtimestamp(int(unix), SERVICE_TZ).isoformat()


def sniff_type(declared: str | None, name: str, head: bytes) -> str:
    """The file's MIME type: as sent, else from its name, else from its first bytes."""
    declared = (declared or "").split(";")[0].strip().lower()
    if declared and declared != "application/octet-stream":
        return declared
    guessed = mimetypes.guess_type(name)[0]
    if guessed:
        return guessed
    for offset, magic, mime in MAGIC:
        if head[offset : offset + len(magic)] == magic:
            return mime
    return "application/octet-stream"


def check_type(mime: str) -> None:
    if mime in facts.UPLOAD_IMAGE_TYPES or mime.startswith(("video/", "audio/")):
        return
    raise FileApiError(40002, f"File type not allowed: {mime}")


def clean_upload_path(value: object, mime: str, default: str | None = None) -> str:
    """The folder a file is filed under; by type when none is given (SOURCES.md)."""
    if value is None or value == "":
        return default or mime.split("/")[0] + "s"
    text = str(value).strip("/")
    if len(text) > 200 or not UPLOAD_PATH_RE.fullmatch(text) or ".." in text.split("/"):
        raise FileApiError(400, "upload_path may hold letters, digits, '.', '_', '-' and '/'")
    return text


def clean_file_name(value: object) -> str | None:
    if value is None or value == "":
        return None
    text = str(value).strip()
    if not text or len(text) > 255 or any(c in text for c in "/\\\x00") or text in (".", ".."):
        raise FileApiError(400, "file_name must be a plain file name of at most 255 characters")
    return text


class Uploads:
    """Files uploaded to this fake, kept in the store (rows) and ``directory`` (bytes)."""

    def __init__(
        self,
        config: Config,
        store: Store,
        clock: Clock,
        directory: Path,
        probe: Callable[[Path], Any],
    ) -> None:
        self.config = config
        self.store = store
        self.clock = clock
        self.directory = directory
        self.probe = probe

    def quota(self, user_group: str) -> int:
        return self.config.file_quota_vip if user_group == "vip" else self.config.file_quota

    def count(self, key: str) -> int:
        return self.store.count_files(key, self.clock.now())

    def check_quota(self, key: str, user_group: str) -> None:
        limit = self.quota(user_group)
        if self.count(key) >= limit:
            raise FileApiError(40003, f"Quota exceeded: {limit} files; delete some first")

    def staging_path(self) -> Path:
        """A fresh path in the upload directory to stream a new file into."""
        self.directory.mkdir(parents=True, exist_ok=True)
        return self.directory / f".incoming-{secrets.token_hex(8)}"

    def add(
        self,
        key: str,
        user_group: str,
        staged: Path,
        *,
        original_name: str,
        mime_type: str,
        file_name: str | None = None,
        upload_path: str,
    ) -> FileRecord:
        """Keep a staged file (blocking: a video is probed here, once)."""
        now = self.clock.now()
        file_id = f"file_{secrets.token_hex(10)}"
        if file_name is None:
            file_name = file_id + (Path(original_name).suffix or "")
        same = [
            r.file_id
            for r in self.store.live_files(key, now)
            if r.upload_path == upload_path and r.file_name == file_name
        ]
        if not same:
            self.check_quota(key, user_group)
        probe = None
        if mime_type.startswith("video/"):
            probe = self.probe(staged).to_json()
        record = FileRecord(
            file_id=file_id,
            key=key,
            upload_path=upload_path,
            file_name=file_name,
            uploaded=now,
            expires=now + facts.UPLOAD_TTL_SECONDS,
            original_name=original_name,
            file_size=staged.stat().st_size,
            mime_type=mime_type,
            probe=probe,
        )
        try:
            staged.replace(self.path(file_id))
            self.store.put_file(record, replaces=same)
        except OSError as exc:
            raise FileApiError(50001, f"Storage service error: {exc.strerror}") from None
        for old in same:
            self.path(old).unlink(missing_ok=True)
        return record

    def path(self, file_id: str) -> Path:
        return self.directory / file_id

    def get(self, file_id: str) -> FileRecord | None:
        """An unexpired file, whoever owns it (file URLs are public)."""
        record = self.store.get_file(file_id)
        if record is None or record.expires <= self.clock.now():
            return None
        return record

    def page(self, key: str, page: int, size: int) -> tuple[int, list[FileRecord]]:
        now = self.clock.now()
        rows = self.store.live_files(key, now, (page - 1) * size, size)
        return self.store.count_files(key, now), rows

    def delete(self, key: str, file_id: str) -> None:
        record = self.get(file_id)
        if record is None or record.key != key:
            raise FileApiError(404, "File not found or expired")
        self.store.delete_files([file_id])
        self.path(file_id).unlink(missing_ok=True)

    def purge_expired(self) -> None:
        """Forget files past their expiry, rows and bytes."""
        gone = [r.file_id for r in self.store.expired_files(self.clock.now())]
        if gone:
            self.store.delete_files(gone)
            for file_id in gone:
                self.path(file_id).unlink(missing_ok=True)

    def reset(self) -> None:
        """Delete the bytes of every file this store knows (the rows go with the reset)."""
        for record in self.store.all_files():
            self.path(record.file_id).unlink(missing_ok=True)
