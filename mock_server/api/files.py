"""The file service's HTTP face (real host files-api.evolink.ai; same origin here).

Answers use the real envelopes (SOURCES.md "Files"): ``{"success": true, "code": 200,
"msg", "data"}`` and ``{"success": false, "code", "msg"}``. Multipart uploads are parsed
as they stream in and written straight to disk, so a 100 MB file never sits in memory
and an oversized one is refused (40001) as soon as it passes the limit. Uploaded files
are served back, without auth, at ``file_url`` and ``download_url`` until they expire.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote

from python_multipart.multipart import parse_options_header
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from contracts import facts
from mock_server.api.formdata import stream_form
from mock_server.api.httpio import json_response, read_body
from mock_server.api.results import file_response
from mock_server.domain.errors import ApiError
from mock_server.media.uploads import FileApiError
from mock_server.service.fake import Fake
from mock_server.service.files import FORM_OVERHEAD

Handler = Callable[[Request, Fake, str], Awaitable[dict[str, Any]]]


def file_api(handler: Handler) -> Callable[[Request], Awaitable[Response]]:
    """Identify the caller by API key, run ``handler``, answer in the file envelope."""

    async def endpoint(request: Request) -> Response:
        fake: Fake = request.app.state.fake
        try:
            key = fake.files.caller(request.headers.get("authorization"))
            request.state.key = key  # for the journal
            answer = await handler(request, fake, key)
            return json_response({"success": True, "code": 200, **answer})
        except ApiError as error:
            return failure(FileApiError(error.status, error.message))
        except FileApiError as error:
            return failure(error)

    return endpoint


def failure(error: FileApiError) -> Response:
    return json_response({"success": False, "code": error.code, "msg": error.msg}, error.status)


async def upload_stream(request: Request, fake: Fake, key: str) -> dict[str, Any]:
    content_type, options = parse_options_header(request.headers.get("content-type", ""))
    if content_type != b"multipart/form-data" or b"boundary" not in options:
        raise FileApiError(400, "Send the file as multipart/form-data in a field named file")

    async def fill(staged: Path) -> dict[str, Any]:
        return await stream_form(request, options[b"boundary"], staged, fake.config.max_file_bytes)

    return await fake.files.upload_stream(key, request.headers.get("content-length", ""), fill)


async def upload_base64(request: Request, fake: Fake, key: str) -> dict[str, Any]:
    body = await _json_object(request, fake.config.max_file_bytes * 4 // 3 + FORM_OVERHEAD)
    return await fake.files.upload_base64(key, body)


async def upload_url(request: Request, fake: Fake, key: str) -> dict[str, Any]:
    body = await _json_object(request, fake.config.max_body_bytes)
    return await fake.files.upload_url(key, body)


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
    page = _positive(query.get("page"), 1, "page")
    size = query.get("pageSize") or query.get("page_size")
    return fake.files.page(key, page, _positive(size, facts.FILE_PAGE_SIZE[0], "pageSize"))


async def quota(request: Request, fake: Fake, key: str) -> dict[str, Any]:
    return fake.files.quota(key)


async def delete_file(request: Request, fake: Fake, key: str) -> dict[str, Any]:
    return fake.files.delete(key, request.path_params["file_id"])


async def serve_file(request: Request) -> Response:
    """``file_url`` and ``download_url``: public until the file expires or is deleted."""
    fake: Fake = request.app.state.fake
    try:
        record, path = fake.files.served(request.path_params["file_id"])
    except FileApiError as error:
        return failure(error)
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
