"""The ``/_mock`` control API: observe and steer the fake (docs/control-api.md "Control API").

Guarded by a bearer token when one is configured, else open only to loopback peers, so a
fake started on 0.0.0.0 cannot be steered from the network by accident.
"""

from __future__ import annotations

import ipaddress
import math
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from contracts import facts
from mock_server.api.httpio import error_response, json_response, read_json
from mock_server.domain.errors import ApiError, invalid
from mock_server.service import timeline
from mock_server.service.fake import Fake
from mock_server.service.paging import parse_limit

Handler = Callable[[Request, Fake], Awaitable[Any]]

# Ten years per call: far past any expiry, well short of datetime's limits.
MAX_ADVANCE_SECONDS = 10 * 365 * 86400
DEFAULT_FAIL_CODE = "service_error"


def guarded(handler: Handler) -> Callable[[Request], Awaitable[Response]]:
    """Check access, run ``handler``, answer JSON; errors in the API's envelope."""

    async def endpoint(request: Request) -> Response:
        fake: Fake = request.app.state.fake
        try:
            check_access(request, fake.config.control_token)
            fake.replica.sync(exact=True)  # control calls see every replica's writes
            return json_response(await handler(request, fake))
        except ApiError as error:
            return error_response(error)

    return endpoint


def check_access(request: Request, token: str | None) -> None:
    if token is not None:
        if request.headers.get("authorization", "") != f"Bearer {token}":
            raise ApiError(401, "The control API needs Authorization: Bearer <control token>")
        return
    host = request.client.host if request.client else ""
    try:
        loopback = ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = host in ("testclient", "localhost", "")
    if not loopback:
        raise ApiError(
            403, "The control API answers only loopback peers unless --control-token is set"
        )


def clock_view(fake: Fake) -> dict[str, Any]:
    return {"mode": fake.clock.mode, "now": fake.now()}


async def health(request: Request, fake: Fake) -> dict[str, Any]:
    from mock_server import __version__

    return {
        "status": "ok",
        "version": __version__,
        "clock": clock_view(fake),
        "tasks": fake.tasks.count(),
        "seed": fake.seed,
        "profile": fake.config.profile,
    }


async def reset(request: Request, fake: Fake) -> dict[str, Any]:
    fake.reset()
    return {"status": "ok", "clock": clock_view(fake)}


async def get_clock(request: Request, fake: Fake) -> dict[str, Any]:
    return clock_view(fake)


async def advance_clock(request: Request, fake: Fake) -> dict[str, Any]:
    body = await read_json(request, fake.config.max_body_bytes, param="seconds")
    seconds = body.get("seconds") if isinstance(body, dict) else None
    if (
        isinstance(seconds, bool)
        or not isinstance(seconds, int | float)
        or not math.isfinite(seconds)
        or not 0 <= seconds <= MAX_ADVANCE_SECONDS
    ):
        raise invalid("seconds", f"seconds must be a number from 0 to {MAX_ADVANCE_SECONDS}")
    await fake.time.advance(float(seconds))
    return clock_view(fake)


async def list_tasks(request: Request, fake: Fake) -> dict[str, Any]:
    q = request.query_params
    return timeline.task_page(
        fake, q.get("key"), q.get("status"), parse_limit(q.get("limit")), q.get("cursor")
    )


async def get_task(request: Request, fake: Fake) -> dict[str, Any]:
    return timeline.describe_task(fake, request.path_params["task_id"])


async def _outcome_body(request: Request, fake: Fake) -> dict[str, Any]:
    if not (await request.body()).strip():
        return {}
    body = await read_json(request, fake.config.max_body_bytes)
    if not isinstance(body, dict):
        raise invalid("body", "the body must be a JSON object")
    for name in ("code", "message"):
        if name in body and not isinstance(body[name], str):
            raise invalid(name, f"{name} must be a string")
    return body


async def complete_task(request: Request, fake: Fake) -> dict[str, Any]:
    return await timeline.end_task(fake, request.path_params["task_id"], "completed")


async def fail_task(request: Request, fake: Fake) -> dict[str, Any]:
    body = await _outcome_body(request, fake)
    code = body.get("code", DEFAULT_FAIL_CODE)
    message = body.get("message") or facts.task_error_message(str(code))
    task_id = request.path_params["task_id"]
    return await timeline.end_task(fake, task_id, "failed", code=code, message=message)


async def cancel_task(request: Request, fake: Fake) -> dict[str, Any]:
    # No public cancel endpoint is documented; a cancelled task reads as failed with the
    # real code for it, request_cancelled (SOURCES.md "Cancel").
    return await timeline.end_task(
        fake,
        request.path_params["task_id"],
        "failed",
        code=facts.CANCEL_CODE,
        message=facts.task_error_message(facts.CANCEL_CODE),
        forced="cancel",
    )


async def put_keys(request: Request, fake: Fake) -> dict[str, Any]:
    body = await read_json(request, fake.config.max_body_bytes, param="keys")
    keys = body.get("keys") if isinstance(body, dict) else None
    if not isinstance(keys, dict) or not keys:
        raise invalid("keys", 'expected {"keys": {"KEY": {"credits": "100"}}}')
    return {"keys": fake.accounts.put_keys(keys)}


async def get_keys(request: Request, fake: Fake) -> dict[str, Any]:
    return {"keys": fake.accounts.key_table()}


async def get_callbacks(request: Request, fake: Fake) -> dict[str, Any]:
    """A page of deliveries with every attempt of each (mock_server/delivery/outbox.py)."""
    q = request.query_params
    return timeline.callback_page(
        fake, q.get("task_id"), parse_limit(q.get("limit")), q.get("cursor")
    )


async def get_ledger(request: Request, fake: Fake) -> dict[str, Any]:
    return fake.accounts.ledger(request.query_params.get("key"))


async def openapi_document(request: Request) -> Response:
    """``contracts/openapi.yaml``: the real API and this control API, described."""
    from importlib.resources import files

    fake: Fake = request.app.state.fake
    try:
        check_access(request, fake.config.control_token)
    except ApiError as error:
        return error_response(error)
    document = (files("contracts") / "openapi.yaml").read_bytes()
    return Response(document, media_type="application/yaml")


routes = [
    Route("/health", guarded(health), methods=["GET"]),
    Route("/openapi.yaml", openapi_document, methods=["GET"]),
    Route("/reset", guarded(reset), methods=["POST"]),
    Route("/clock", guarded(get_clock), methods=["GET"]),
    Route("/clock/advance", guarded(advance_clock), methods=["POST"]),
    Route("/tasks", guarded(list_tasks), methods=["GET"]),
    Route("/tasks/{task_id}", guarded(get_task), methods=["GET"]),
    Route("/tasks/{task_id}/complete", guarded(complete_task), methods=["POST"]),
    Route("/tasks/{task_id}/fail", guarded(fail_task), methods=["POST"]),
    Route("/tasks/{task_id}/cancel", guarded(cancel_task), methods=["POST"]),
    Route("/keys", guarded(put_keys), methods=["PUT"]),
    Route("/keys", guarded(get_keys), methods=["GET"]),
    Route("/ledger", guarded(get_ledger), methods=["GET"]),
    Route("/callbacks", guarded(get_callbacks), methods=["GET"]),
]
