"""The HTTP face of the fake: a table of routes, handlers of a few lines.

Handlers parse, call ``Fake`` and render; every error leaves as the real API's JSON
envelope, including the framework's own 404/405 and any unexpected exception (a 500
with no traceback).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import os
from collections.abc import AsyncIterator
from typing import Any

import orjson
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Match, Mount, Route
from starlette.types import Scope

from mock_server.api import account, boundary, control, dashboard, files, observe, results
from mock_server.api.faulty import DroppedConnection
from mock_server.api.httpio import error_response, json_response
from mock_server.api.tasks import GetTask, create_generation
from mock_server.api.traffic import Traffic
from mock_server.domain.errors import ApiError
from mock_server.runtime.clock import idle, monotonic
from mock_server.runtime.config import Config, load_config
from mock_server.service import retention
from mock_server.service.fake import Fake
from mock_server.store.records import StoreUnavailable

log = logging.getLogger("wanmock")


async def http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if exc.status_code == 404:
        return error_response(
            ApiError(404, f"No such endpoint: {request.method} {request.url.path}")
        )
    if exc.status_code == 405:
        # routing rewrote the scope's root_path on the way in (a Mount): start again
        scope = {**request.scope, "root_path": request.scope.get("app_root_path", "")}
        allowed = {"Allow": ", ".join(sorted(allowed_methods(request.app.routes, scope)))}
        return error_response(
            ApiError(405, f"Method {request.method} is not allowed here", headers=allowed)
        )
    return error_response(ApiError(exc.status_code, str(exc.detail)))


def allowed_methods(routes: list[BaseRoute], scope: Scope) -> set[str]:
    """Every method some route serves at this path: Starlette's own 405 names only
    those of the first route that matched, where a path has a route per method. A path
    spelled out (``/api/v1/files/list``) is not also an id (``/api/v1/files/{file_id}``)."""
    literal: set[str] = set()
    templated: set[str] = set()
    for route in routes:
        match, child = route.matches(scope)
        if match is Match.NONE:
            continue
        if isinstance(route, Mount):
            templated |= allowed_methods(route.routes, {**scope, **child})
        elif isinstance(route, Route):
            (templated if route.param_convertors else literal).update(route.methods or ())
    return literal or templated


async def server_error(request: Request, exc: Exception) -> Response:
    if isinstance(exc, DroppedConnection):  # a transport fault on purpose, not a bug
        return Response(status_code=499)
    log.exception("unexpected error on %s %s", request.method, request.url.path, exc_info=exc)
    return json_response(ApiError(500, "Internal server error").body(), 500)


def create_app(config: Config | None = None, fake: Fake | None = None) -> Starlette:
    """A fresh fake; all state hangs off the returned app (``app.state.fake``)."""
    fake = fake or Fake(config or Config())

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        runner = asyncio.create_task(background(fake))
        try:
            yield
        finally:
            runner.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await runner
            await fake.aclose()

    app = Starlette(
        routes=route_table(),
        middleware=[Middleware(boundary.StoreFaults), Middleware(Traffic)],
        exception_handlers={HTTPException: http_error, Exception: server_error},
        lifespan=lifespan,
    )
    app.state.fake = fake
    return app


@functools.cache
def route_table() -> list[BaseRoute]:
    """Every app's routes, built and guarded once per process: a route holds no state of
    its app (handlers find their fake through ``scope["app"]``), and the tables of
    ``control``, ``files``... are module-level objects, so guarding them per app would
    wrap their handlers once more for every fake built (a fake per test, in the pytest
    plugin). Starlette copies the list it is given, so no app can change another's."""
    routes: list[BaseRoute] = [
        Route("/v1/tasks/{task_id:path}", GetTask(), methods=["GET"]),
        Route("/v1/videos/generations", create_generation, methods=["POST"]),
        Mount("/_mock", routes=[*control.routes, *observe.routes, *dashboard.routes]),
        *files.routes,
        *results.routes,
        *account.routes,
    ]
    boundary.guard_path_params(routes)
    return routes


# How often the journal's batch is written and other processes' changes looked for:
# often enough that a reader in another process sees a request a moment later.
HOUSEKEEPING_SECONDS = 0.05


# Where ``wanmock serve --workers N`` hands each worker process its configuration.
CONFIG_ENV = "WANMOCK_SERVE_CONFIG"


def export_config(cli: dict[str, Any], config_file: str | None, resolved: dict[str, Any]) -> str:
    """The settings as given (flags, file; the environment is inherited) and what the
    parent resolved (port, seed), as a value a worker process reads back."""
    return orjson.dumps({"cli": cli, "file": config_file, "resolved": resolved}).decode()


def app_factory() -> Starlette:
    """The app of one worker of ``wanmock serve --workers N``: every worker opens the
    same store, so together they are one fake (docs/ARCHITECTURE.md)."""
    given = orjson.loads(os.environ[CONFIG_ENV])
    config = load_config(given["cli"], config_file=given["file"])
    return create_app(config.replace(**given["resolved"]))


async def background(fake: Fake) -> None:
    """Real clock: run side effects when due. Every mode: write the journal's batch off
    the request path, and pick up work other processes queued (tasks to settle,
    callbacks to retry) even when no request comes. With ``--retention``, purge what is
    older than it every ``retention.SWEEP_SECONDS``. A store fault (the store logged
    it) stops none of this: the step is tried again next round, and the real clock's
    runner is started again."""
    runner: asyncio.Task[None] | None = None
    swept = monotonic()
    try:
        while True:
            if fake.clock.mode == "real" and (runner is None or stopped_by_store(runner)):
                runner = asyncio.create_task(fake.time.run_forever())
            await idle(HOUSEKEEPING_SECONDS)
            with contextlib.suppress(StoreUnavailable):
                await fake.housekeeping()
                if fake.config.retention and monotonic() - swept >= retention.SWEEP_SECONDS:
                    swept = monotonic()
                    purged = retention.purge(fake)
                    if purged.tasks:
                        log.info("retention: purged %d tasks", purged.tasks)
    finally:
        if runner is not None:
            runner.cancel()


def stopped_by_store(runner: asyncio.Task[None]) -> bool:
    """Did the real clock's runner end on a store fault (and so should run again)?"""
    if not runner.done() or runner.cancelled():
        return False
    return isinstance(runner.exception(), StoreUnavailable)
