"""Reading requests and writing answers in the real API's shapes.

Bodies are read with a hard cap (413 before the whole body is in memory), decoded with
orjson (malformed JSON, invalid UTF-8 and lone surrogates are a 400, not a 500), and every
answer, errors included, is JSON.
"""

from __future__ import annotations

from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response

from mock_server.domain.errors import ApiError

JSON = "application/json"


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(orjson.dumps(body), status_code=status, media_type=JSON, headers=headers)


def error_response(error: ApiError) -> Response:
    return json_response(error.body(), error.status, error.headers or None)


def body_too_large(limit: int) -> ApiError:
    """The API's 413: a request body over ``--max-body-bytes`` (SOURCES.md "HTTP errors")."""
    return ApiError(413, f"Request body too large: the limit is {limit} bytes")


async def read_body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None:
        try:
            if int(declared) > limit:
                raise body_too_large(limit)
        except ValueError:
            raise ApiError(400, "Invalid Content-Length header") from None
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise body_too_large(limit)
        chunks.append(chunk)
    return b"".join(chunks)


async def read_json(request: Request, limit: int, *, param: str = "body") -> Any:
    raw = await read_body(request, limit)
    if not raw.strip():
        raise ApiError(400, "Invalid request format: the body must be a JSON object", param=param)
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise ApiError(
            400, f"Invalid request format: body is not valid JSON ({exc.msg})", param=param
        ) from None
