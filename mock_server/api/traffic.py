"""What happens around every API request: the stepped clock's tick, scenario effects
that answer the request itself (HTTP errors, dropped connections, slow answers, seeded
latency) and the journal.

A pure ASGI middleware, so it covers every public route (task API, file API, results)
in one place. The poll stays lean: with no rules it costs one dict append per request
and never touches the store (the journal is flushed in batches elsewhere).
"""

from __future__ import annotations

import contextlib
import logging
from typing import Any

import orjson
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from contracts import facts
from mock_server.api.faulty import DroppedConnection, broken, drop
from mock_server.api.tasks import ANSWER, get_task
from mock_server.domain import faults
from mock_server.domain.errors import ApiError
from mock_server.domain.scenarios import CREATE_PATH, Facts, Rule, add_fields
from mock_server.domain.transport import broken_body
from mock_server.runtime.clock import idle, monotonic, wall_time
from mock_server.runtime.journal import TASK_PATH, Entry
from mock_server.service.fake import Fake

CAPTURED_TYPES = (b"application/json", b"text/")
# Where a scenario leaves the unknown fields to add to this request's answer.
EXTRA = "wanmock.extra_fields"
# Where a scenario leaves how to break this request's answer (domain/transport.py).
BREAK = "wanmock.break_body"
MAX_CAPTURE = 64 * 1024


class _QuietDrops(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return not (record.exc_info and isinstance(record.exc_info[1], DroppedConnection))


logging.getLogger("uvicorn.error").addFilter(_QuietDrops())


def _key(fake: Fake, scope: Scope) -> str | None:
    for name, value in scope["headers"]:
        if name == b"authorization":
            token = value.decode("latin-1").partition(" ")[2].strip()
            return token if fake.accounts.known(token) else None
    return None


def _peek(raw: bytes) -> tuple[str | None, str | None]:
    """The model and prompt of a create body, if it is a JSON object."""
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return None, None
    if not isinstance(body, dict):
        return None, None
    model, prompt = body.get("model"), body.get("prompt")
    return (model if isinstance(model, str) else None, prompt if isinstance(prompt, str) else None)


class Traffic:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith("/_mock"):
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        fake: Fake = scope["app"].state.fake
        started, arrived = monotonic(), wall_time()  # latency and wall_at share a start
        fake.replica.sync()
        if fake.stepped:
            await fake.time.on_request()
        entry = Entry(fake.now(), scope["method"], path, None, arrived)
        if fake.rules.active or (scope["method"] == "POST" and path == CREATE_PATH):
            entry.key = _key(fake, scope)
            try:
                answered = await self._scenario(fake, scope, receive, send, entry)
            except DroppedConnection:
                self._finish(fake, entry, started)
                raise
            if answered:
                self._finish(fake, entry, started)
                return
            receive = entry.replay or receive
            if scope.get(BREAK):
                send = broken(send, scope[BREAK])
        if fake.config.latency[1]:
            await idle(fake.time.latency())
        extra = scope.get(EXTRA)
        if path.startswith(TASK_PATH) and scope["method"] == "GET":
            # The poll handler leaves its answer in the scope: no wrapper on the hot path.
            self._note_poll_rate(fake, path, entry, started)
            scope["path_params"] = {"task_id": path[len(TASK_PATH) :]}
            try:
                await get_task(scope, _decorated(send, extra, scope) if extra else send)
            finally:
                entry.key, entry.status, entry.response = scope.get(ANSWER, (None, 0, None))
                self._finish(fake, entry, started)
            return

        async def capture(message: Message) -> None:
            if message["type"] == "http.response.start":
                entry.status = message["status"]
                for name, value in message.get("headers", ()):
                    if name == b"content-type":
                        entry.response = b"" if value.startswith(CAPTURED_TYPES) else None
            elif entry.response is not None and len(entry.response) < MAX_CAPTURE:
                entry.response += message.get("body", b"")
            await send(message)

        try:
            await self.app(scope, receive, _decorated(capture, extra, scope) if extra else capture)
        finally:
            state = scope.get("state")
            if state:
                entry.task_id = state.get("task_id")
                entry.key = entry.key or state.get("key")
                for note in state.get("notes", ()):
                    entry.note(note)
            self._finish(fake, entry, started)

    async def _scenario(
        self, fake: Fake, scope: Scope, receive: Receive, send: Send, entry: Entry
    ) -> bool:
        """Apply a scenario that answers this request itself; True if it did."""
        body = b""
        if scope["method"] == "POST" and scope["path"] == CREATE_PATH:
            body, entry.replay = await _buffer(receive, fake.config.max_body_bytes)
            entry.request = body
        try:
            rule = self._rule(fake, scope, entry, body)
            if rule is None:
                return False
            entry.note(f"scenario {rule.id} ({rule.name or 'unnamed'}) applied")
            if rule.effect.delay_seconds:
                await idle(rule.effect.delay_seconds)
            if rule.effect.hang_seconds:
                entry.note(
                    f"transport fault: no answer for {rule.effect.hang_seconds:g} s, "
                    "then the connection was closed"
                )
                await idle(rule.effect.hang_seconds)
                await self._drop(send, entry)
            if rule.effect.drop_connection:
                await self._drop(send, entry)
            kind = broken_body(rule.effect)
            if kind is not None:
                scope[BREAK] = kind
                entry.note(
                    "transport fault: "
                    + (
                        "connection reset halfway through the answer's body"
                        if kind == "reset_connection"
                        else "body cut off halfway (Content-Length promised more)"
                    )
                )
            status = rule.effect.http_status
            if status is None:
                return False
            if status not in facts.HTTP_ERRORS:
                entry.note(f"HTTP {status} is not a status the real API documents")
            await self._answer(
                send, faults.http_error(status, rule.effect.message, rule.effect.headers), entry
            )
        except ApiError as error:  # a bad magic token
            await self._answer(send, error, entry)
        return True

    def _rule(self, fake: Fake, scope: Scope, entry: Entry, body: bytes) -> Rule | None:
        model, prompt = _peek(body) if body else (None, None)
        path = scope["path"]
        task_id = path.rpartition("/")[2] if path.startswith(TASK_PATH) else None
        asked = Facts(scope["method"], path, entry.key, model, prompt, task_id)
        rule, extra = fake.rules.answer_effects(asked)
        if extra:
            scope[EXTRA] = extra
        return rule

    async def _answer(self, send: Send, error: ApiError, entry: Entry) -> None:
        body = orjson.dumps(error.body())
        headers = [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
        ]
        headers += [(k.lower().encode(), v.encode()) for k, v in error.headers.items()]
        entry.status, entry.response = error.status, body
        entry.retry_after = error.headers.get("Retry-After")
        await send({"type": "http.response.start", "status": error.status, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    async def _drop(self, send: Send, entry: Entry) -> None:
        entry.status = 499  # nginx's "client closed request": no answer was given
        entry.note("connection dropped before the answer")
        await drop(send)

    def _note_poll_rate(self, fake: Fake, path: str, entry: Entry, now: float) -> None:
        gap = fake.journal.note_poll(path, now)
        if gap is not None and gap < fake.config.poll_interval_min:
            entry.poll_gap = (gap, fake.config.poll_interval_min)

    def _finish(self, fake: Fake, entry: Entry, started: float) -> None:
        if not entry.recorded:
            entry.latency_ms = (monotonic() - started) * 1000
            fake.journal.record(entry)


def _decorated(send: Send, extra: dict[str, Any], scope: Scope) -> Send:
    """``send`` with a 2xx JSON object answer given the scenario's unknown fields (and the
    journal shown the answer as the client got it)."""
    start: Message | None = None
    chunks: list[bytes] = []

    async def decorate(message: Message) -> None:
        nonlocal start
        if message["type"] == "http.response.start" and 200 <= message["status"] < 300:
            types = [v for k, v in message.get("headers", ()) if k == b"content-type"]
            if types and types[0].startswith(b"application/json"):
                start = message
                return
        if start is None or message["type"] != "http.response.body":
            await send(message)
            return
        chunks.append(message.get("body", b""))
        if message.get("more_body", False):
            return
        body = b"".join(chunks)
        with contextlib.suppress(orjson.JSONDecodeError):
            body = orjson.dumps(add_fields(orjson.loads(body), extra))
        if ANSWER in scope:
            key, status, _ = scope[ANSWER]
            scope[ANSWER] = (key, status, body)
        headers = [(k, v) for k, v in start.get("headers", ()) if k != b"content-length"]
        headers.append((b"content-length", b"%d" % len(body)))
        await send({**start, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    return decorate


async def _buffer(receive: Receive, limit: int) -> tuple[bytes, Receive]:
    """Read the whole body (up to ``limit``+1 bytes) and hand the handler a replay."""
    chunks: list[bytes] = []
    size = 0
    more = True
    while more:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        chunks.append(chunk)
        more = message.get("more_body", False)
        if size > limit:
            break
    body = b"".join(chunks)
    replayed = False

    async def replay() -> dict[str, Any]:
        nonlocal replayed
        if not replayed:
            replayed = True
            return {"type": "http.request", "body": body, "more_body": more}
        return dict(await receive())

    return body, replay
