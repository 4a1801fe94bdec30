"""An HTTPS callback receiver for tests and local development.

A real uvicorn server on 127.0.0.1 (a free port), on a thread and event loop of its own,
with a certificate from ``trustme`` whose CA it writes to a file for
``--callback-ca-file``. It answers as scripted (succeed, fail the first N, always fail,
a list of statuses, slow) and records everything it receives, in ``unittest.mock`` words:
``calls``, ``call_count``, ``called``, ``last``.

In a test::

    with Receiver(Script.fail_first(2)) as receiver:
        fake = Fake(Config(clock="virtual", allow_callback_host=("127.0.0.1",),
                           callback_ca_file=receiver.ca_file))
        ...  # create a task with callback_url=receiver.url, advance the clock
        assert receiver.call_count == 3

From a shell, ``wanmock receiver --fail-first 2`` prints its URL and CA file. Its own
routes, on the same port: ``GET /_receiver/calls`` (the record), ``PUT /_receiver/script``
(a new script, the same fields as the flags) and ``DELETE /_receiver/calls``.
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import ssl
import tempfile
import threading
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from mock_server.runtime.clock import wall_time
from mock_server.testing.threaded import ThreadedServer

ASGIApp = Callable[..., Awaitable[None]]


@dataclass(frozen=True, slots=True)
class Reply:
    status: int = 200
    delay: float = 0.0  # real seconds before answering (a slow receiver)


@dataclass(slots=True)
class Script:
    """Replies in order, then ``then`` for every call after them."""

    replies: list[Reply] = field(default_factory=list)
    then: Reply = Reply()

    @classmethod
    def succeed(cls, status: int = 200) -> Script:
        return cls(then=Reply(status))

    @classmethod
    def fail_first(cls, n: int, status: int = 500, then: int = 200) -> Script:
        return cls([Reply(status)] * n, Reply(then))

    @classmethod
    def always_fail(cls, status: int = 500) -> Script:
        return cls(then=Reply(status))

    @classmethod
    def statuses(cls, *codes: int, then: int = 200) -> Script:
        return cls([Reply(c) for c in codes], Reply(then))

    @classmethod
    def slow(cls, seconds: float, first: int | None = None, then: int = 200) -> Script:
        """Every answer ``seconds`` late, or only the ``first`` N."""
        if first is None:
            return cls(then=Reply(then, seconds))
        return cls([Reply(then, seconds)] * first, Reply(then))

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Script:
        """The ``wanmock receiver`` flags as a JSON object (``PUT /_receiver/script``)."""
        ok = int(data.get("status", 200))
        bad = int(data.get("fail_status", 500))
        delay = float(data.get("delay", 0.0))
        if data.get("always_fail"):
            return cls(then=Reply(bad, delay))
        replies = [Reply(int(c), delay) for c in data.get("statuses", ())]
        replies += [Reply(bad, delay)] * int(data.get("fail_first", 0))
        return cls(replies, Reply(ok, delay))

    def next(self) -> Reply:
        return self.replies.pop(0) if self.replies else self.then


@dataclass(slots=True)
class Call:
    """One request the receiver got, and what it answered (None: the client went away)."""

    number: int
    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    received_at: float
    answered: int | None = None
    note: Any = None  # what the ``on_call`` hook returned

    def json(self) -> Any:
        return orjson.loads(self.body)

    def to_json(self) -> dict[str, Any]:
        return {
            "number": self.number,
            "method": self.method,
            "path": self.path,
            "headers": self.headers,
            "body": self.body.decode("utf-8", "replace"),
            "received_at": self.received_at,
            "answered": self.answered,
        }


class Receiver:
    """The HTTPS receiver; ``start``/``stop`` or use it as a context manager."""

    def __init__(
        self,
        script: Script | None = None,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        path: str = "/callback",
        names: tuple[str, ...] = ("127.0.0.1", "localhost", "::1"),
        ca_file: str | None = None,
        on_call: Callable[[Call], Awaitable[Any] | Any] | None = None,
    ) -> None:
        self.script = script or Script.succeed()
        self.host, self.path, self.names = host, path, names
        self.on_call = on_call
        self.calls: list[Call] = []
        self._lock = threading.Lock()
        self._arrived = threading.Condition(self._lock)
        self._dir = Path(tempfile.mkdtemp(prefix="wanmock-receiver-"))
        self.ca_file = ca_file or str(self._dir / "ca.pem")
        self._server = ThreadedServer(self._app, host, port)

    # -- life -------------------------------------------------------------------------

    def start(self) -> Receiver:
        import trustme

        ca = trustme.CA(organization_name="wanmock receiver")
        cert = ca.issue_cert(*self.names)
        ca.cert_pem.write_to_path(self.ca_file)
        chain, key = self._dir / "server.pem", self._dir / "server.key"
        chain.write_bytes(b"".join(blob.bytes() for blob in cert.cert_chain_pems))
        cert.private_key_pem.write_to_path(str(key))
        self._server.options.update(ssl_certfile=str(chain), ssl_keyfile=str(key))
        self._server.start()
        return self

    def stop(self) -> None:
        self._server.stop()
        shutil.rmtree(self._dir, ignore_errors=True)

    def __enter__(self) -> Receiver:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        return self._server.port

    @property
    def base_url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"https://{host}:{self.port}"

    @property
    def url(self) -> str:
        return self.base_url + self.path

    def client_context(self) -> ssl.SSLContext:
        """A client TLS context that trusts this receiver (``httpx.Client(verify=...)``)."""
        return ssl.create_default_context(cafile=self.ca_file)

    # -- the record -------------------------------------------------------------------

    @property
    def call_count(self) -> int:
        with self._lock:
            return len(self.calls)

    @property
    def called(self) -> bool:
        return self.call_count > 0

    @property
    def last(self) -> Call | None:
        with self._lock:
            return self.calls[-1] if self.calls else None

    def set_script(self, script: Script) -> None:
        with self._lock:
            self.script = script

    def clear(self, script: Script | None = None) -> None:
        """Forget every call (and take a new script, if given)."""
        with self._lock:
            self.calls.clear()
            if script is not None:
                self.script = script

    def wait_for_calls(self, count: int, timeout: float) -> bool:
        """Block until ``count`` calls arrived (real-clock tests); False on timeout."""
        with self._arrived:
            return self._arrived.wait_for(lambda: len(self.calls) >= count, timeout)

    # -- serving ----------------------------------------------------------------------

    async def _app(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while (await receive())["type"] != "lifespan.shutdown":
                await send({"type": "lifespan.startup.complete"})
            await send({"type": "lifespan.shutdown.complete"})
            return
        body = b""
        more = True
        while more:
            message = await receive()
            body += message.get("body", b"")
            more = message.get("more_body", False)
        path = scope["path"]
        if path.startswith("/_receiver/"):
            status, answer = self._control(scope["method"], path, body)
            await _respond(send, status, orjson.dumps(answer))
            return
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        with self._arrived:
            call = Call(len(self.calls) + 1, scope["method"], path, headers, body, wall_time())
            self.calls.append(call)
            reply = self.script.next()
            self._arrived.notify_all()
        if self.on_call is not None:
            note = self.on_call(call)
            call.note = await note if asyncio.iscoroutine(note) else note
        if reply.delay and await _client_leaves(receive, reply.delay):
            return
        call.answered = reply.status
        ok = 200 <= reply.status < 300
        await _respond(send, reply.status, b'{"received":true}' if ok else b'{"error":"scripted"}')

    def _control(self, method: str, path: str, body: bytes) -> tuple[int, Any]:
        if path == "/_receiver/calls" and method == "GET":
            with self._lock:
                return 200, {"calls": [c.to_json() for c in self.calls]}
        if path == "/_receiver/calls" and method == "DELETE":
            self.clear()
            return 200, {"calls": []}
        if path == "/_receiver/script" and method == "PUT":
            try:
                self.set_script(Script.from_json(orjson.loads(body or b"{}")))
            except (ValueError, TypeError, AttributeError) as exc:
                return 400, {"error": f"bad script: {exc}"}
            return 200, {"status": "ok"}
        return 404, {"error": f"no such receiver route: {method} {path}"}


async def _respond(send: Any, status: int, body: bytes) -> None:
    headers = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(body))]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def _client_leaves(receive: Any, seconds: float) -> bool:
    """Wait ``seconds`` (a slow answer); True if the client hung up meanwhile."""
    with contextlib.suppress(TimeoutError):
        while (await asyncio.wait_for(receive(), seconds))["type"] != "http.disconnect":
            pass
        return True
    return False


@contextlib.contextmanager
def running(script: Script | None = None, **options: Any) -> Iterator[Receiver]:
    """``with running(Script.always_fail()) as receiver:`` a started receiver."""
    receiver = Receiver(script, **options).start()
    try:
        yield receiver
    finally:
        receiver.stop()
