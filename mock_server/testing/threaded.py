"""An ASGI app served by uvicorn on its own thread: the one helper every in-process server
uses (the callback receiver, ``ServerThread``, the test providers)."""

from __future__ import annotations

import asyncio
import logging
import socket
import threading
from typing import Any, Final

from mock_server.api.faulty import transport_of

GRACE_CUT: Final = "timeout graceful shutdown exceeded"


class _QuietCut(logging.Filter):
    """Leaves out uvicorn's line on cutting requests short at shutdown: a threaded server
    stops while a request may still be held on purpose (a ``hang`` fault), and that is no
    error (see ``ThreadedServer.stop``)."""

    def filter(self, record: logging.LogRecord) -> bool:
        return GRACE_CUT not in record.getMessage()


logging.getLogger("uvicorn.error").addFilter(_QuietCut())


class ThreadedServer:
    """An ASGI app served by uvicorn on its own thread and event loop.

    ``start`` binds the port before the thread runs (``port=0`` picks a free one), so
    connections queue from then on and the port is known at once; ``sockets`` serves
    sockets the caller bound instead (several ports, one loop).
    """

    def __init__(
        self,
        app: Any,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        sockets: list[socket.socket] | None = None,
        **uvicorn_options: Any,
    ) -> None:
        self.app = app
        self.host = host
        self.port = port
        self.sockets = sockets
        self.options = uvicorn_options
        self._thread: threading.Thread | None = None
        self._server: Any = None
        self._stopping = False

    def _bind(self) -> list[socket.socket]:
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        # IPPROTO_TCP spelled out: asyncio turns Nagle off (TCP_NODELAY) only on sockets
        # whose proto says TCP, and without that every answer waits ~40 ms for an ACK.
        sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self.host, self.port))
        sock.listen(128)  # connections queue from now on, even before the loop runs
        self.port = sock.getsockname()[1]
        return [sock]

    def start(self) -> int:
        """Listen, serve on a thread, return the port once the app has started."""
        import uvicorn

        sockets = self.sockets or self._bind()
        started = threading.Event()

        async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
            if scope["type"] == "lifespan":
                started.set()
            try:
                await self.app(scope, receive, send)
            except asyncio.CancelledError:
                if not self._stopping:
                    raise
                await _close_quietly(send)

        options: dict[str, Any] = {
            "loop": "asyncio",
            "ws": "none",
            "log_config": None,
            "log_level": "critical",
            "access_log": False,
            "timeout_graceful_shutdown": 1,
        }
        config = uvicorn.Config(app, **{**options, **self.options})
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": sockets}, daemon=True
        )
        self._thread.start()
        while not started.wait(0.05):
            if not self._thread.is_alive():
                raise RuntimeError(f"the server on {self.host}:{self.port} did not start")
        while not self._server.started and self._thread.is_alive():
            started.wait(0.01)  # the app's startup has run: requests are served now
        return self.port

    def stop(self) -> None:
        """Ask uvicorn to shut down and wait (10 s at most) for its thread to end."""
        if self._server is not None and self._thread is not None:
            self._stopping = True
            self._server.should_exit = True
            self._thread.join(10)
            self._thread = None

    def join(self) -> None:
        """Wait until the server stops (Ctrl-C ends the wait, not the server)."""
        while self._thread is not None and self._thread.is_alive():
            self._thread.join(0.5)


async def _close_quietly(send: Any) -> None:
    """A request uvicorn cancelled as the server stops (a hang still held): its connection
    is closed with no answer, as the fault meant, instead of a traceback and a 500."""
    transport = transport_of(send)
    if transport is not None:
        transport.abort()
        await asyncio.sleep(0)  # let the server see the connection go
