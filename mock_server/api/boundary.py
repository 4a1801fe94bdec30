"""Where requests cross into the fake and store faults cross back out, each in one place.

Path parameters: every id taken from a URL passes ``ids.storable`` before any handler
sees it, so an id no store can hold (a NUL, a megabyte) is answered as any other
unknown id on that route, not by a driver's error.

Store faults: ``StoreUnavailable`` from anywhere is a 503 with ``Retry-After``, in
the envelope of the service the route belongs to: the real API's
``{"error": {...}}``, or the file service's ``{"success": false, "code", "msg"}``
(SOURCES.md "HTTP errors", docs/deployment.md "When the database fails").
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Final

from starlette.responses import Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.types import ASGIApp, Receive, Scope, Send

from mock_server.api.httpio import json_response
from mock_server.domain.errors import ApiError
from mock_server.domain.ids import storable
from mock_server.store.records import StoreUnavailable

# Seconds a client is told to wait before trying again after a 503 (the fake's choice).
RETRY_AFTER_SECONDS: Final = 1
UNAVAILABLE_MESSAGE: Final = "The service is temporarily unavailable; retry shortly"
# The file service's routes (real host files-api.evolink.ai) answer in its own envelope.
FILE_SERVICE_PREFIX: Final = "/api/v1/files/"


def storable_params(app: ASGIApp) -> ASGIApp:
    async def wrapped(scope: Scope, receive: Receive, send: Send) -> None:
        params = scope.get("path_params")
        if params:
            scope["path_params"] = {
                name: storable(value) if isinstance(value, str) else value
                for name, value in params.items()
            }
        await app(scope, receive, send)

    return wrapped


def guard_path_params(routes: Iterable[BaseRoute]) -> None:
    """Make every route's path parameters storable before its handler runs."""
    for route in routes:
        if isinstance(route, Mount):
            guard_path_params(route.routes)
        elif isinstance(route, Route) and route.param_convertors:
            route.app = storable_params(route.app)


def unavailable_response(path: str) -> Response:
    headers = {"Retry-After": str(RETRY_AFTER_SECONDS)}
    if path.startswith(FILE_SERVICE_PREFIX):
        body = {"success": False, "code": 503, "msg": UNAVAILABLE_MESSAGE}
        return json_response(body, 503, headers)
    return json_response(ApiError(503, UNAVAILABLE_MESSAGE).body(), 503, headers)


class StoreFaults:
    """ASGI middleware, outside the journal's: ``StoreUnavailable`` raised anywhere
    below it (the journal's own store reads, a handler) is answered 503 here; the store
    logged the fault. No wrapper on ``send``: the hot path pays one ``try``."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await self.app(scope, receive, send)
        except StoreUnavailable:
            if scope["type"] != "http":
                raise
            await unavailable_response(scope["path"])(scope, receive, send)
