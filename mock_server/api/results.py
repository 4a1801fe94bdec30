"""Result links: ``/results/{task_id}-{index}.mp4?Expires=..&Signature=..``.

They behave like the signed object-storage URLs the real service hands out: a bad
signature or a link past ``Expires`` (24 hours after completion, on the server's clock)
answers 403 with a small XML error, as such storage does; a good one serves a real MP4
(``renders.py``) with ``Content-Length``, ``Accept-Ranges: bytes`` and 206 answers to a
single ``Range``; an unsatisfiable range gets 416. Several ranges, or a malformed
``Range``, are ignored and the whole file is sent (RFC 9110 lets a server do so).
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path

import anyio
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from mock_server.service.fake import Fake
from mock_server.service.results import ResultRefused

NAME_RE = re.compile(r"(task-unified-\d{1,12}-[a-z0-9]{8})-(\d{1,2})\.mp4")
RANGE_RE = re.compile(r"bytes=(\d*)-(\d*)")
CHUNK = 64 * 1024


def storage_error(status: int, code: str, message: str) -> Response:
    body = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f"<Error><Code>{code}</Code><Message>{message}</Message></Error>\n"
    )
    return Response(body, status_code=status, media_type="application/xml")


def parse_range(header: str | None, size: int) -> tuple[int, int] | str | None:
    """``(first, last)`` to send, None for the whole file, "unsatisfiable" for a 416."""
    match = RANGE_RE.fullmatch((header or "").replace(" ", ""))
    if match is None or match.group(1) == match.group(2) == "":
        return None
    first, last = match.group(1), match.group(2)
    if first == "":  # the last N bytes
        if int(last) == 0:
            return "unsatisfiable"
        return max(0, size - int(last)), size - 1
    start = int(first)
    if last != "" and int(last) < start:
        return None  # syntactically invalid: ignore the header
    if start >= size:
        return "unsatisfiable"
    return start, size - 1 if last == "" else min(int(last), size - 1)


async def _chunks(path: Path, first: int, count: int) -> AsyncIterator[bytes]:
    async with await anyio.open_file(path, "rb") as handle:
        await handle.seek(first)
        while count > 0:
            chunk = await handle.read(min(CHUNK, count))
            if not chunk:
                break
            count -= len(chunk)
            yield chunk


def file_response(
    request: Request, path: Path, media_type: str, headers: dict[str, str] | None = None
) -> Response:
    """``path`` with Content-Length and Range support; HEAD sends the headers only."""
    size = path.stat().st_size
    base = {"accept-ranges": "bytes", **(headers or {})}
    wanted = parse_range(request.headers.get("range"), size)
    if wanted == "unsatisfiable":
        response = storage_error(416, "InvalidRange", "The requested range is not satisfiable")
        response.headers["content-range"] = f"bytes */{size}"
        return response
    status, first, last = 200, 0, size - 1
    if isinstance(wanted, tuple):
        status, (first, last) = 206, wanted
        base["content-range"] = f"bytes {first}-{last}/{size}"
    base["content-length"] = str(last - first + 1)
    if request.method == "HEAD":
        return Response(status_code=status, headers=base, media_type=media_type)
    return StreamingResponse(
        _chunks(path, first, last - first + 1), status, headers=base, media_type=media_type
    )


async def serve_result(request: Request) -> Response:
    fake: Fake = request.app.state.fake
    name = request.path_params["name"]
    match = NAME_RE.fullmatch(name)
    expires_text = request.query_params.get("Expires", "")
    signature = request.query_params.get("Signature", "")
    if match is None or not expires_text.isdigit() or not signature:
        return storage_error(403, "AccessDenied", "Missing or malformed signature parameters")
    task_id, index = match.group(1), int(match.group(2))
    try:
        path = await fake.results.file(task_id, index, int(expires_text), signature)
    except ResultRefused as refused:
        return storage_error(refused.status, refused.code, refused.message)
    return file_response(request, path, "video/mp4")


routes = [Route("/results/{name}", serve_result, methods=["GET", "HEAD"])]
