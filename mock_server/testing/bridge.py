"""httpx requests into an ASGI app in the same process, on the app's own event loop.

The fake's state belongs to one loop: its scheduler, the outbox's deliveries and the
callback sender's connections are made on it. ``Bridge`` owns that loop and runs it
where it is cheapest:

- a caller with no loop of its own (sync httpx, ``wanmock.advance()`` in a sync test)
  drives the loop itself, in its own thread, for the length of the call: no thread is
  started and no thread is woken, which is most of what an in-process test costs;
- a caller already inside a running loop (async httpx, or a sync call from async code)
  cannot drive a second loop in its thread, so the loop moves to a thread of its own,
  for good (the same loop object: what was made on it stays valid), and calls are
  handed to it as before.

A lock keeps two threads from driving the loop at once. The app is called as an ASGI
app directly, without ``httpx.ASGITransport`` (whose per-request costs, such as looking
for trio, show in an in-process test's profile).
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable, Callable, Coroutine, MutableMapping
from typing import Any, TypeVar
from urllib.parse import unquote

import httpx

T = TypeVar("T")
Message = MutableMapping[str, Any]
Asgi = Callable[
    [Message, Callable[[], Awaitable[Message]], Callable[[Message], Awaitable[None]]],
    Awaitable[None],
]
DEFAULT_PORTS = {"http": 80, "https": 443}


class Bridge:
    """Runs coroutines on one loop for sync and async callers; serves httpx requests."""

    def __init__(self, app: Asgi) -> None:
        self.app = app
        self.loop = asyncio.new_event_loop()
        self._lock = threading.Lock()  # held while a caller drives the loop
        self._thread: threading.Thread | None = None

    # -- running coroutines on the loop ---------------------------------------------------

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        """Run ``coro`` on the loop and return its result, from any thread."""
        if self._thread is None:
            try:
                asyncio.get_running_loop()
            except RuntimeError:
                with self._lock:
                    if self._thread is None:
                        return self.loop.run_until_complete(coro)
            else:
                self._to_thread()
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result()

    async def arun(self, coro: Coroutine[Any, Any, T]) -> T:
        """Await ``coro`` run on the loop, from another loop."""
        self._to_thread()
        return await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(coro, self.loop))

    def _to_thread(self) -> None:
        with self._lock:
            if self._thread is None and not self.loop.is_closed():
                self._thread = threading.Thread(
                    target=self.loop.run_forever, name="wanmock-loop", daemon=True
                )
                self._thread.start()

    def close(self, last: Callable[[], object]) -> None:
        """Run ``last`` on the loop (closing what lives there), then close the loop."""

        async def finish() -> None:
            last()

        with self._lock:
            if self.loop.is_closed():
                return
            if self._thread is None:  # nobody drives the loop now: this thread may
                last()
                self.loop.close()
                return
        self.run(finish())
        with self._lock:
            self.loop.call_soon_threadsafe(self.loop.stop)
            self._thread.join(10)
            self.loop.close()

    # -- httpx in, ASGI out ---------------------------------------------------------------

    def handle(self, request: httpx.Request) -> httpx.Response | Awaitable[httpx.Response]:
        """A respx side effect: the app's answer, for sync and async clients alike."""
        headers = [(k.lower(), v) for k, v in request.headers.raw]
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            response = self.run(self.serve(request.method, request.url, headers, request.read()))
            response.request = request  # respx copies a response that has none
            return response

        async def answer() -> httpx.Response:
            body = await request.aread()
            response = await self.arun(self.serve(request.method, request.url, headers, body))
            response.request = request
            return response

        return answer()

    async def serve(
        self, method: str, url: httpx.URL, headers: list[tuple[bytes, bytes]], body: bytes
    ) -> httpx.Response:
        """One request through the app, as ``httpx.ASGITransport`` would make it."""
        scope: Message = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": method,
            "headers": headers,
            "scheme": url.scheme,
            "path": unquote(url.path),
            "raw_path": url.raw_path.split(b"?", 1)[0],
            "query_string": url.query,
            "server": (url.host, url.port or DEFAULT_PORTS.get(url.scheme, 80)),
            "client": ("127.0.0.1", 123),
            "root_path": "",
        }
        status = 500
        response_headers: list[tuple[bytes, bytes]] = []
        chunks: list[bytes] = []
        requested = finished = False
        done: asyncio.Event | None = None  # made only if the app listens for a disconnect

        async def receive() -> Message:
            nonlocal requested, done
            if not requested:
                requested = True
                return {"type": "http.request", "body": body, "more_body": False}
            if not finished:
                done = done or asyncio.Event()
                await done.wait()
            return {"type": "http.disconnect"}

        async def send(message: Message) -> None:
            nonlocal status, response_headers, finished
            if message["type"] == "http.response.start":
                status = message["status"]
                response_headers = list(message.get("headers", []))
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))
                if not message.get("more_body", False):
                    finished = True
                    if done is not None:
                        done.set()

        try:
            await self.app(scope, receive, send)
        finally:
            if done is not None:
                done.set()
        return httpx.Response(status, headers=response_headers, content=b"".join(chunks))
