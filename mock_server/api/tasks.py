"""The two calls of the task API: create a generation, and the poll.

The poll is the call clients make most, so it is a bare ASGI function with no Request or
Response objects; the traffic middleware calls it directly for ``GET /v1/tasks/…``,
skipping the router (docs/ARCHITECTURE.md "Speed"). The route stays in the table for
HEAD and for the 405 of other methods.
"""

from __future__ import annotations

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from contracts import facts
from mock_server.api.httpio import JSON, error_response, read_json
from mock_server.domain import faults
from mock_server.domain.errors import ApiError
from mock_server.service.fake import Fake

# Where the poll leaves (key, status, body) for the journal.
ANSWER = "wanmock.answer"


def fake_of(request: Request) -> Fake:
    fake: Fake = request.app.state.fake
    return fake


async def create_generation(request: Request) -> Response:
    fake = fake_of(request)
    try:
        key = fake.accounts.authenticate(request.headers.get("authorization"))
        body = await read_json(request, fake.config.max_body_bytes, param="model")
        task, answer = await fake.tasks.submit(key, body)
    except ApiError as error:
        return error_response(error)
    request.state.task_id = task.id  # for the journal
    request.state.key = key
    code = task.plan.error_code
    if code and not faults.is_known_task_error(code):
        request.state.notes = [f"failure code {code!r} is not one of the real service's codes"]
    return Response(answer, media_type=JSON)


class GetTask:
    """The poll, the call clients make most: a bare ASGI endpoint (a class, so Starlette
    calls it as ASGI) with no Request or Response objects (docs/ARCHITECTURE.md, "Poll")."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await get_task(scope, send)


async def get_task(scope: Scope, send: Send) -> None:
    fake: Fake = scope["app"].state.fake
    authorization = next((v for k, v in scope["headers"] if k == b"authorization"), b"")
    key = None
    try:
        key = fake.accounts.authenticate(authorization.decode("latin-1"), facts.QUERY_AUTH_MESSAGE)
        body = fake.tasks.poll(key, scope["path_params"]["task_id"])
        status, extra = 200, []
    except ApiError as error:
        body, status = orjson.dumps(error.body()), error.status
        extra = [(k.lower().encode(), v.encode()) for k, v in error.headers.items()]
    scope[ANSWER] = (key, status, body)
    headers = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(body))]
    await send({"type": "http.response.start", "status": status, "headers": headers + extra})
    await send({"type": "http.response.body", "body": body})
