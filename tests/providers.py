"""Providers for testing the provider verifier: the fake on a real port, and broken ones.

A broken provider is the fake behind ``Rewrite``, an ASGI wrapper that may change a
request before the fake sees it and the answer before the client does, each breaking
exactly one documented rule; it runs on a real loopback port like any server.
"""

from __future__ import annotations

import json
import socket
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mock_server.api.app import create_app
from mock_server.runtime.config import Config
from mock_server.service.fake import Fake
from mock_server.testing.embedded import free_port
from mock_server.testing.threaded import ThreadedServer


@dataclass
class Answer:
    """An answer on its way out: the wrapper's mutators may change any part."""

    method: str
    path: str
    request: Any
    status: int
    content_type: str
    body: Any  # decoded JSON, or raw bytes when not JSON


RequestRewrite = Callable[[str, str, Any], Any]
AnswerRewrite = Callable[[Answer], None]


class Rewrite:
    """ASGI middleware that lets a test rewrite JSON requests and answers of ``app``."""

    def __init__(
        self,
        app: ASGIApp,
        request: RequestRewrite | None = None,
        answer: AnswerRewrite | None = None,
    ) -> None:
        self.app = app
        self.rewrite_request = request
        self.rewrite_answer = answer

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith("/_mock"):
            await self.app(scope, receive, send)
            return
        raw = b""
        while True:
            message = await receive()
            raw += message.get("body", b"")
            if not message.get("more_body"):
                break
        request = _decode(raw)
        if self.rewrite_request is not None and not isinstance(request, bytes):
            changed = self.rewrite_request(scope["method"], scope["path"], request)
            if changed is not request:
                request, raw = changed, json.dumps(changed).encode()
        sent = False

        async def replay() -> Message:
            nonlocal sent
            if sent:
                return {"type": "http.disconnect"}
            sent = True
            return {"type": "http.request", "body": raw, "more_body": False}

        start: dict[str, Any] = {}
        chunks: list[bytes] = []

        async def capture(message: Message) -> None:
            if message["type"] == "http.response.start":
                start.update(message)
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))

        headers = [(k, v) for k, v in scope["headers"] if k != b"content-length"]
        headers.append((b"content-length", str(len(raw)).encode()))
        await self.app({**scope, "headers": headers}, replay, capture)
        await self._answer(scope, request, start, b"".join(chunks), send)

    async def _answer(
        self, scope: Scope, request: Any, start: dict[str, Any], body: bytes, send: Send
    ) -> None:
        kind = dict(start.get("headers", [])).get(b"content-type", b"").decode()
        answer = Answer(
            scope["method"],
            scope["path"],
            request,
            start["status"],
            kind,
            _decode(body) if "json" in kind else body,
        )
        if self.rewrite_answer is not None:
            self.rewrite_answer(answer)
        out = answer.body if isinstance(answer.body, bytes) else json.dumps(answer.body).encode()
        kept = [
            (k, v)
            for k, v in start.get("headers", [])
            if k not in (b"content-type", b"content-length")
        ]
        headers = [
            *kept,
            (b"content-type", answer.content_type.encode()),
            (b"content-length", str(len(out)).encode()),
        ]
        await send({"type": "http.response.start", "status": answer.status, "headers": headers})
        await send({"type": "http.response.body", "body": out})


def _decode(raw: bytes) -> Any:
    try:
        return json.loads(raw) if raw else None
    except ValueError:
        return raw


def fast_config(media_dir: str) -> Config:
    """A fake whose tasks end within a few requests: stepped clock, fast profile."""
    return Config(db=":memory:", clock="stepped", profile="fast", media_dir=media_dir)


@contextmanager
def serving(wrap: Callable[[ASGIApp, Fake], ASGIApp] | None = None) -> Iterator[str]:
    """A fake (optionally wrapped) on a free loopback port; yields its base URL."""
    with tempfile.TemporaryDirectory(prefix="wanmock-provider-") as media:
        config = fast_config(media).replace(port=free_port())
        app = create_app(config)
        served = wrap(app, app.state.fake) if wrap else app
        server = ThreadedServer(
            served, config.host, config.port, log_level="warning", lifespan="on"
        )
        server.start()
        try:
            yield config.base_url
        finally:
            server.stop()


class ByPort:
    """One ASGI app per listening port: several providers on one event loop."""

    def __init__(self, apps: dict[int, ASGIApp], default: ASGIApp) -> None:
        self.apps, self.default = apps, default

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        server = scope.get("server") or (None, None)
        await self.apps.get(server[1], self.default)(scope, receive, send)


@contextmanager
def serving_many(wraps: list[Callable[[ASGIApp, Fake], ASGIApp]]) -> Iterator[list[str]]:
    """One fake behind several providers (each ``wrap`` on its own loopback port, all
    served by one uvicorn loop), as proxies in front of one fake with one key; yields
    their base URLs."""
    with tempfile.TemporaryDirectory(prefix="wanmock-provider-") as media:
        sockets = []
        for _ in wraps:
            sock = socket.socket()
            sock.bind(("127.0.0.1", 0))
            sockets.append(sock)
        ports = [int(sock.getsockname()[1]) for sock in sockets]
        config = fast_config(media).replace(port=ports[0])  # result links: the first
        app = create_app(config)
        apps = {port: wrap(app, app.state.fake) for port, wrap in zip(ports, wraps, strict=True)}
        for sock in sockets:
            sock.listen(128)
        server = ThreadedServer(
            ByPort(apps, app),
            sockets=sockets,
            log_level="warning",
            lifespan="on",
            timeout_keep_alive=60,
        )
        server.start()
        try:
            yield [f"http://127.0.0.1:{port}" for port in ports]
        finally:
            server.stop()
            for sock in sockets:
                sock.close()


def no_usage(answer: Answer) -> None:
    """Leaves ``usage`` out of every task object (create answer and polls)."""
    if isinstance(answer.body, dict) and answer.body.get("object") == "video.generation.task":
        answer.body.pop("usage", None)


def no_usage_on_polls(answer: Answer) -> None:
    """Leaves ``usage`` out of the query's answers only."""
    if answer.path.startswith("/v1/tasks/") and isinstance(answer.body, dict):
        answer.body.pop("usage", None)


def reserves_too_little(answer: Answer) -> None:
    """Says it reserved 1 credit, then charges the full price."""
    usage = answer.body.get("usage") if isinstance(answer.body, dict) else None
    if isinstance(usage, dict):
        usage["credits_reserved"] = 1
