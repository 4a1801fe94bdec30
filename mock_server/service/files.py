"""Files: the file service's operations (real host files-api.evolink.ai).

Every upload is staged to a file of its own first (streamed, decoded or downloaded
there), then checked, filed and answered; the staged file is removed whatever happens.
Answers are the ``data`` of the real envelopes (SOURCES.md "Files"); errors are
``FileApiError`` with the real business codes.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from contracts import facts
from mock_server.domain.errors import ApiError
from mock_server.domain.models import FileRecord
from mock_server.media import uploads
from mock_server.media.references import DownloadError, TooLarge, download
from mock_server.media.uploads import FileApiError, Uploads, file_too_large
from mock_server.runtime.config import Config
from mock_server.service.accounts import Accounts

UPLOADED = "File uploaded successfully"
# Multipart framing a form may add to the file's own bytes before it is too large.
FORM_OVERHEAD = 64 * 1024

# Fills a staged path with the upload's bytes; the form's other fields.
Fill = Callable[[Path], Awaitable[dict[str, Any]]]


class Files:
    """Uploads of one fake: staging, checks, records, quotas."""

    def __init__(self, config: Config, uploads: Uploads, accounts: Accounts) -> None:
        self.config = config
        self.uploads = uploads
        self.accounts = accounts

    def caller(self, authorization: str | None) -> str:
        """The key behind a file API request; files past their expiry go first."""
        try:
            key = self.accounts.authenticate(authorization)
        except ApiError as error:
            raise FileApiError(error.status, error.message) from None
        self.uploads.purge_expired()
        return key

    # -- uploads ----------------------------------------------------------------------------

    async def upload_stream(self, key: str, declared: str, fill: Fill) -> dict[str, Any]:
        """A multipart upload: ``fill`` streams the file into the staged path. A declared
        ``Content-Length`` past the limit is refused before a byte is read."""
        limit = self.config.max_file_bytes
        if declared.isdigit() and int(declared) > limit + FORM_OVERHEAD:
            raise file_too_large(limit)
        staged = self.uploads.staging_path()
        try:
            form = await fill(staged)
            if form.get("file_name_seen") is None:
                raise FileApiError(400, "file is required: send it in a multipart field named file")
            return await self._keep(
                key,
                staged,
                original_name=form["file_name_seen"] or "upload",
                declared_type=form.get("file_type"),
                upload_path=form.get("upload_path") or form.get("uploadPath"),
                file_name=form.get("file_name") or form.get("fileName"),
            )
        finally:
            staged.unlink(missing_ok=True)

    async def upload_base64(self, key: str, body: dict[str, Any]) -> dict[str, Any]:
        """``{"base64_data": data URL or plain base64, "file_name"?, "upload_path"?}``."""
        limit = self.config.max_file_bytes
        data = body.get("base64_data")
        if not isinstance(data, str) or not data:
            raise FileApiError(400, "base64_data is required: a data URL or plain base64")
        declared = None
        if data.startswith("data:"):
            meta, _, data = data.partition(",")
            declared = meta[5:].split(";")[0] or None
        try:
            raw = base64.b64decode(data, validate=False)
        except (binascii.Error, ValueError):
            raise FileApiError(400, "base64_data is not valid base64") from None
        if len(raw) > limit:
            raise file_too_large(limit)
        name = body.get("file_name")
        staged = self.uploads.staging_path()
        try:
            staged.write_bytes(raw)
            return await self._keep(
                key,
                staged,
                original_name=name if isinstance(name, str) and name else "upload",
                declared_type=declared,
                upload_path=body.get("upload_path"),
                file_name=name,
            )
        finally:
            staged.unlink(missing_ok=True)

    async def upload_url(self, key: str, body: dict[str, Any]) -> dict[str, Any]:
        """``{"file_url", ...}``: downloaded with ``--fetch-references`` only."""
        url = body.get("file_url")
        if not isinstance(url, str) or not url.lower().startswith(("http://", "https://")):
            raise FileApiError(400, "file_url is required: a public http or https URL")
        if not self.config.fetch_references:
            raise FileApiError(
                40004,
                "URL download failed: this wanmock server makes no outbound requests; start "
                "it with --fetch-references (WANMOCK_FETCH_REFERENCES=true) to upload from "
                "a URL",
            )
        staged = self.uploads.staging_path()
        try:
            try:
                await download(url, staged, self.config.max_file_bytes)
            except TooLarge:
                raise file_too_large(self.config.max_file_bytes) from None
            except DownloadError as exc:
                raise FileApiError(40004, f"URL download failed: {exc}") from None
            return await self._keep(
                key,
                staged,
                original_name=Path(url.split("?", 1)[0]).name or "download",
                declared_type=None,
                upload_path=body.get("upload_path"),
                file_name=body.get("file_name"),
                default_path="downloads",
            )
        finally:
            staged.unlink(missing_ok=True)

    async def _keep(
        self,
        key: str,
        staged: Path,
        *,
        original_name: str,
        declared_type: str | None,
        upload_path: Any,
        file_name: Any,
        default_path: str | None = None,
    ) -> dict[str, Any]:
        """Check a staged file's type and names, file it, answer with its record."""
        with staged.open("rb") as handle:
            head = handle.read(16)
        mime = uploads.sniff_type(declared_type, original_name, head)
        uploads.check_type(mime)
        group = self.accounts.info(key).user_group
        record = await asyncio.to_thread(
            lambda: self.uploads.add(
                key,
                group,
                staged,
                original_name=original_name,
                mime_type=mime,
                file_name=uploads.clean_file_name(file_name),
                upload_path=uploads.clean_upload_path(upload_path, mime, default_path),
            )
        )
        return {"msg": UPLOADED, "data": uploads.file_view(record, self.config.base_url)}

    # -- reading and deleting ------------------------------------------------------------

    def page(self, key: str, page: int, size: int) -> dict[str, Any]:
        """One page of ``key``'s live files, newest first (the page size capped)."""
        size = min(size, facts.FILE_PAGE_SIZE[1])
        total, records = self.uploads.page(key, page, size)
        files = [uploads.file_view(record, self.config.base_url) for record in records]
        return {"msg": "success", "data": {"total": total, "page": page, "files": files}}

    def quota(self, key: str) -> dict[str, Any]:
        group = self.accounts.info(key).user_group
        limit = self.uploads.quota(group)
        used = self.uploads.count(key)
        data = {
            "user_group": group,
            "used_files": used,
            "max_files": limit,
            "remain_files": max(0, limit - used),
            "is_custom": False,
            "quota_reason": "",
        }
        return {"data": data}  # the documented quota answer has no msg

    def delete(self, key: str, file_id: str) -> dict[str, Any]:
        self.uploads.delete(key, file_id)
        return {"msg": "File deleted successfully", "data": {"file_id": file_id}}

    def served(self, file_id: str) -> tuple[FileRecord, Path]:
        """A live file's record and content (``file_url``, ``download_url``: no auth)."""
        record = self.uploads.get(file_id)
        if record is None:
            raise FileApiError(404, "File not found or expired")
        path = self.uploads.path(record.file_id)
        if not path.exists():  # a replica whose --media-dir is not the one the upload used
            raise FileApiError(
                404,
                "File is recorded but its content is not in this server's media directory; "
                "replicas must share one --media-dir",
            )
        return record, path
