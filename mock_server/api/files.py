"""The file service's HTTP face (real host files-api.evolink.ai; same origin here).

Answers use the real envelopes (SOURCES.md "Files"): ``{"success": true, "code": 200,
"msg", "data"}`` and ``{"success": false, "code", "msg"}``. Multipart uploads are parsed
as they stream in and written straight to disk, so a 100 MB file never sits in memory
and an oversized one is refused (40001) as soon as it passes the limit. Uploaded files
are served back, without auth, at ``file_url`` and ``download_url`` until they expire.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote

from python_multipart.multipart import parse_options_header
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from contracts import facts
from mock_server.api.formdata import stream_form
from mock_server.api.httpio import json_response, read_body
from mock_server.api.results import file_response
from mock_server.domain.errors import ApiError
from mock_server.media import uploads
from mock_server.media.references import DownloadError, TooLarge, download
from mock_server.media.uploads import FileApiError, file_too_large
from mock_server.service.fake import Fake

Handler = Callable[[Request, Fake, str], Awaitable[dict[str, Any]]]
UPLOADED = "File uploaded successfully"


def file_api(handler: Handler) -> Callable[[Request], Awaitable[Response]]:
    """Authenticate with the API keys, run ``handler``, answer in the file envelope."""

    async def endpoint(request: Request) -> Response:
        fake: Fake = request.app.state.fake
        try:
            key = fake.authenticate(request.headers.get("authorization"))
            request.state.key = key  # for the journal
            fake.uploads.purge_expired()
            answer = await handler(request, fake, key)
            return json_response({"success": True, "code": 200, **answer})
        except ApiError as error:
            return failure(FileApiError(error.status, error.message))
        except FileApiError as error:
            return failure(error)

    return endpoint


def failure(error: FileApiError) -> Response:
    return json_response({"success": False, "code": error.code, "msg": error.msg}, error.status)


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


async def _keep(
    fake: Fake,
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
    store = fake.uploads
    try:
        with staged.open("rb") as handle:
            head = handle.read(16)
        mime = uploads.sniff_type(declared_type, original_name, head)
        uploads.check_type(mime)
        record = await run_in_threadpool(
            lambda: store.add(
                key,
                fake.keys[key].user_group,
                staged,
                original_name=original_name,
                mime_type=mime,
                file_name=uploads.clean_file_name(file_name),
                upload_path=uploads.clean_upload_path(upload_path, mime, default_path),
            )
        )
    finally:
        staged.unlink(missing_ok=True)
    return {"msg": UPLOADED, "data": uploads.file_view(record, fake.base_url)}


async def upload_stream(request: Request, fake: Fake, key: str) -> dict[str, Any]:
    store = fake.uploads
    limit = fake.config.max_file_bytes
    content_type, options = parse_options_header(request.headers.get("content-type", ""))
    if content_type != b"multipart/form-data" or b"boundary" not in options:
        raise FileApiError(400, "Send the file as multipart/form-data in a field named file")
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit + 64 * 1024:
        raise file_too_large(limit)
    staged = store.staging_path()
    try:
        form = await stream_form(request, options[b"boundary"], staged, limit)
        if form.get("file_name_seen") is None:
            raise FileApiError(400, "file is required: send it in a multipart field named file")
        return await _keep(
            fake,
            key,
            staged,
            original_name=form["file_name_seen"] or "upload",
            declared_type=form.get("file_type"),
            upload_path=form.get("upload_path") or form.get("uploadPath"),
            file_name=form.get("file_name") or form.get("fileName"),
        )
    finally:
        staged.unlink(missing_ok=True)


async def upload_base64(request: Request, fake: Fake, key: str) -> dict[str, Any]:
    store = fake.uploads
    limit = fake.config.max_file_bytes
    body = await _json_object(request, limit * 4 // 3 + 64 * 1024)
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
    name = _text(body.get("file_name")) or "upload"
    staged = store.staging_path()
    staged.write_bytes(raw)
    return await _keep(
        fake,
        key,
        staged,
        original_name=name,
        declared_type=declared,
        upload_path=body.get("upload_path"),
        file_name=body.get("file_name"),
    )


async def upload_url(request: Request, fake: Fake, key: str) -> dict[str, Any]:
    body = await _json_object(request, fake.config.max_body_bytes)
    url = body.get("file_url")
    if not isinstance(url, str) or not url.lower().startswith(("http://", "https://")):
        raise FileApiError(400, "file_url is required: a public http or https URL")
    if not fake.config.fetch_references:
        raise FileApiError(
            40004,
            "URL download failed: this wanmock server makes no outbound requests; start it "
            "with --fetch-references (WANMOCK_FETCH_REFERENCES=true) to upload from a URL",
        )
    store = fake.uploads
    staged = store.staging_path()
    try:
        await download(url, staged, fake.config.max_file_bytes)
    except TooLarge:
        staged.unlink(missing_ok=True)
        raise file_too_large(fake.config.max_file_bytes) from None
    except DownloadError as exc:
        staged.unlink(missing_ok=True)
        raise FileApiError(40004, f"URL download failed: {exc}") from None
    original = Path(url.split("?", 1)[0]).name or "download"
    return await _keep(
        fake,
        key,
        staged,
        original_name=original,
        declared_type=None,
        upload_path=body.get("upload_path"),
        file_name=body.get("file_name"),
        default_path="downloads",
    )


async def _json_object(request: Request, limit: int) -> dict[str, Any]:
    import orjson

    try:
        raw = await read_body(request, limit)
        body = orjson.loads(raw)
    except ApiError as error:
        raise FileApiError(40001 if error.status == 413 else 400, error.message) from None
    except orjson.JSONDecodeError:
        raise FileApiError(400, "The body must be a JSON object") from None
    if not isinstance(body, dict):
        raise FileApiError(400, "The body must be a JSON object")
    return body


def _positive(value: str | None, default: int, name: str) -> int:
    if value is None or value == "":
        return default
    # at most 9 digits: a page past SQLite's 64-bit integers must be a 400, not a 500
    if not value.isdigit() or int(value) < 1 or len(value) > 9:
        raise FileApiError(400, f"{name} must be a positive integer below 10^9")
    return int(value)


async def list_files(request: Request, fake: Fake, key: str) -> dict[str, Any]:
    query = request.query_params
    default_size, max_size = facts.FILE_PAGE_SIZE
    page = _positive(query.get("page"), 1, "page")
    size = _positive(query.get("pageSize") or query.get("page_size"), default_size, "pageSize")
    total, records = fake.uploads.page(key, page, min(size, max_size))
    files = [uploads.file_view(record, fake.base_url) for record in records]
    return {"msg": "success", "data": {"total": total, "page": page, "files": files}}


async def quota(request: Request, fake: Fake, key: str) -> dict[str, Any]:
    group = fake.keys[key].user_group
    limit = fake.uploads.quota(group)
    used = fake.uploads.count(key)
    data = {
        "user_group": group,
        "used_files": used,
        "max_files": limit,
        "remain_files": max(0, limit - used),
        "is_custom": False,
        "quota_reason": "",
    }
    return {"data": data}  # the documented quota answer has no msg


async def delete_file(request: Request, fake: Fake, key: str) -> dict[str, Any]:
    file_id = request.path_params["file_id"]
    fake.uploads.delete(key, file_id)
    return {"msg": "File deleted successfully", "data": {"file_id": file_id}}


async def serve_file(request: Request) -> Response:
    """``file_url`` and ``download_url``: public until the file expires or is deleted."""
    fake: Fake = request.app.state.fake
    record = fake.uploads.get(request.path_params["file_id"])
    if record is None:
        return failure(FileApiError(404, "File not found or expired"))
    path = fake.uploads.path(record.file_id)
    if not path.exists():  # a replica whose --media-dir is not the one the upload went to
        return failure(
            FileApiError(
                404,
                "File is recorded but its content is not in this server's media directory; "
                "replicas must share one --media-dir",
            )
        )
    headers = {}
    if request.url.path.startswith("/api/"):
        headers["content-disposition"] = f"attachment; filename*=UTF-8''{quote(record.file_name)}"
    return file_response(request, path, record.mime_type, headers)


routes = [
    Route("/api/v1/files/upload/stream", file_api(upload_stream), methods=["POST"]),
    Route("/api/v1/files/upload/base64", file_api(upload_base64), methods=["POST"]),
    Route("/api/v1/files/upload/url", file_api(upload_url), methods=["POST"]),
    Route("/api/v1/files/list", file_api(list_files), methods=["GET"]),
    Route("/api/v1/files/quota", file_api(quota), methods=["GET"]),
    Route("/api/v1/files/download/{file_id}", serve_file, methods=["GET", "HEAD"]),
    Route("/api/v1/files/{file_id}", file_api(delete_file), methods=["DELETE"]),
    Route("/files/{file_id}/{name:path}", serve_file, methods=["GET", "HEAD"]),
]
