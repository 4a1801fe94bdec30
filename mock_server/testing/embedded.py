"""The fake inside someone else's program: in process behind respx, or on a thread.

``EmbeddedFake`` runs the app on an event loop of its own (``bridge.py``), so sync and
async callers, and the fake's own callback deliveries, all meet one loop; ``route()`` sends
ordinary httpx calls to ``https://api.evolink.ai`` and ``https://files-api.evolink.ai``
into it through respx. ``ServerThread`` serves a fake on a real uvicorn port for clients
that are not httpx-based. The pytest plugin only builds and tears down these objects.
"""

from __future__ import annotations

import json
import secrets
import shutil
import socket
import tempfile
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlencode

import httpx

from mock_server.api.app import create_app
from mock_server.runtime.config import Config
from mock_server.service.fake import Fake
from mock_server.testing.bridge import Bridge

T = TypeVar("T")
REAL_HOSTS = ("api.evolink.ai", "files-api.evolink.ai")
REAL_BASE_URL = "https://api.evolink.ai"


class ControlMethods:
    """Steering and reading a fake through its control API, the same for every way of
    running it; subclasses say how a control call travels (``control``)."""

    config: Config

    def control(self, method: str, path: str, body: Any = None) -> Any:
        raise NotImplementedError

    @property
    def api_key(self) -> str:
        return next(iter(self.config.keys))

    def advance(self, seconds: float) -> float:
        """Move the virtual clock, running every due event (billing, callbacks) on the way."""
        return float(self.control("POST", "/clock/advance", {"seconds": seconds})["now"])

    def complete(self, task_id: str) -> Any:
        return self.control("POST", f"/tasks/{task_id}/complete")

    def fail(self, task_id: str, code: str = "service_error", message: str | None = None) -> Any:
        body = {"code": code} if message is None else {"code": code, "message": message}
        return self.control("POST", f"/tasks/{task_id}/fail", body)

    def cancel(self, task_id: str) -> Any:
        return self.control("POST", f"/tasks/{task_id}/cancel")

    def set_keys(self, keys: dict[str, Any]) -> Any:
        return self.control("PUT", "/keys", {"keys": keys})

    def add_scenario(self, rule: dict[str, Any]) -> Any:
        """Add a scenario rule (docs/scenarios.md "Scenarios"); returns it with its id."""
        return self.control("POST", "/scenarios", rule)["rules"][0]

    def clear_scenarios(self) -> None:
        self.control("DELETE", "/scenarios")

    def every(self, path: str, field: str, **query: str) -> list[Any]:
        """Every item of a paged listing (docs/control-api.md "Control API"), page by page."""
        items: list[Any] = []
        cursor = None
        while True:
            params = {**query, "limit": "1000", **({"cursor": cursor} if cursor else {})}
            page = self.control("GET", f"{path}?{urlencode(params)}")
            items += page[field]
            cursor = page.get("next_cursor")
            if not cursor:
                return items

    def tasks(self) -> list[Any]:
        return self.every("/tasks", "tasks")

    def task(self, task_id: str) -> Any:
        return self.control("GET", f"/tasks/{task_id}")

    def ledger(self, key: str | None = None) -> Any:
        return self.control("GET", "/ledger" + (f"?key={key}" if key else ""))

    def requests(self, task_id: str | None = None) -> list[Any]:
        """The journal: every API request with its answer and contract notes."""
        return self.every("/requests", "requests", **({"task_id": task_id} if task_id else {}))

    def events(self, task_id: str | None = None) -> list[Any]:
        return self.every("/events", "events", **({"task_id": task_id} if task_id else {}))

    def callbacks(self, task_id: str | None = None) -> Any:
        query = {"task_id": task_id} if task_id else {}
        return {
            "callbacks": self.every("/callbacks", "callbacks", **query),
            "attempts": sorted(
                self.every("/callbacks", "attempts", **query),
                key=lambda a: (a["attempted_at"], a["task_id"], a["number"]),
            ),
        }

    def reset(self) -> None:
        self.control("POST", "/reset")


def fake_config(media_dir: str, **overrides: Any) -> Config:
    """The embedded default: virtual clock, nothing on disk but media in ``media_dir``."""
    return Config(**{"db": ":memory:", "clock": "virtual", "media_dir": media_dir, **overrides})


class EmbeddedFake(ControlMethods):
    """One isolated fake (virtual clock, in-memory store) reachable through respx.

    A test pays for this once per test, so it is built for a cheap start and a cheap
    request (``make bench``, "in-process test"): the store is a copy of a template,
    the media folder is only named (made when something is stored), and no thread is
    started. Requests run the app on the fake's own event loop driven by the calling
    thread (``Bridge``).
    """

    def __init__(self, config: Config | None = None, **overrides: Any) -> None:
        self._media = Path(tempfile.gettempdir()) / f"wanmock-{secrets.token_hex(8)}"
        self.config = config or fake_config(
            str(self._media), **{"public_url": REAL_BASE_URL, **overrides}
        )
        self.fake: Fake = Fake(self.config)
        self.app = create_app(fake=self.fake)
        self._bridge = Bridge(self.app)
        self._router: Any = None

    # -- driving the fake -------------------------------------------------------------

    def call(self, fn: Callable[[], T]) -> T:
        """Run ``fn`` where the fake's loop runs (the only place that may touch its state)."""

        async def run() -> T:
            return fn()

        return self._bridge.run(run())

    def run_until_idle(self, limit: float = 7 * 24 * 3600) -> float:
        """Advance until nothing is left to happen (every task ended, every callback made)."""

        async def drain() -> float:
            while (due := self.fake.scheduler.next_due()) is not None:
                if due - self.fake.now() > limit:
                    break
                await self.fake.advance(max(0.0, due - self.fake.now()))
            return self.fake.now()

        return self._bridge.run(drain())

    # -- the control API, in process ------------------------------------------------------

    def control(self, method: str, path: str, body: Any = None) -> Any:
        """Call ``/_mock{path}`` without the network; returns its JSON, raises on errors."""
        content = b"" if body is None else json.dumps(body, separators=(",", ":")).encode()
        headers = [(b"host", b"127.0.0.1"), (b"content-length", str(len(content)).encode())]
        if body is not None:
            headers.append((b"content-type", b"application/json"))
        url = httpx.URL(f"http://127.0.0.1/_mock{path}")
        response = self._bridge.run(self._bridge.serve(method, url, headers, content))
        if response.status_code >= 400:
            raise AssertionError(f"{method} /_mock{path}: {response.status_code} {response.text}")
        return response.json()

    # -- respx ------------------------------------------------------------------------

    def handle(self, request: httpx.Request) -> httpx.Response | Awaitable[httpx.Response]:
        """A respx side effect: answer from the fake, for sync and async clients alike."""
        return self._bridge.handle(request)

    def _route(self, request: httpx.Request) -> Any:
        """The one route's side effect: the real hosts' requests answered, others passed on
        (respx takes a request returned as "pass through")."""
        if request.url.host in REAL_HOSTS:
            return self._bridge.handle(request)
        return request

    def route(self) -> Any:
        """Start routing the real hosts to this fake; everything else passes through.

        One route on httpx's clients (``using="httpx"``): respx builds a mock object per
        route and patches per target, which shows in a test's set-up (testing/routing.py
        keeps stopped routers for the next fake)."""
        from mock_server.testing import routing

        self._router = routing.start(self._route)
        return self._router

    def close(self) -> None:
        if self._router is not None:
            from mock_server.testing import routing

            routing.stop(self._router)
            self._router = None
        self._bridge.close(self.fake.store.close)
        if self._media.exists():
            shutil.rmtree(self._media, ignore_errors=True)


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


class ServerThread(ControlMethods):
    """``wanmock serve`` on a uvicorn thread of this process, on a free loopback port."""

    def __init__(self, config: Config | None = None, **overrides: Any) -> None:
        self._media = tempfile.TemporaryDirectory(prefix="wanmock-")
        default = fake_config(self._media.name, **overrides)
        self.config = (config or default).replace(port=free_port())
        self.app = create_app(self.config)
        self.fake: Fake = self.app.state.fake
        self.base_url = self.config.base_url
        # Imported here: uvicorn's server is for this class only, not the in-process fake.
        from mock_server.testing.threaded import ThreadedServer

        self.server = ThreadedServer(
            self.app, self.config.host, self.config.port, log_level="warning", lifespan="on"
        )
        self.server.start()

    is_real = False

    def control(self, method: str, path: str, body: Any = None) -> Any:
        answer = httpx.request(method, f"{self.base_url}/_mock{path}", json=body, timeout=60)
        if answer.status_code >= 400:
            raise AssertionError(f"{method} /_mock{path}: {answer.status_code} {answer.text}")
        return answer.json()

    def close(self) -> None:
        self.server.stop()
        self._media.cleanup()
