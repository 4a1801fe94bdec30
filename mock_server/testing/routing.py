"""The respx router that sends the real hosts' requests to an in-process fake.

Imported when a fake is first routed, so a test run that never routes pays nothing for
respx. A router and its route are mock objects, about a third of routing's cost on
Python 3.11 (``unittest.mock`` inspects every attribute name of ``None`` for each), and a
test suite routes one fake per test: so a stopped router that still has only the fake's
route is kept (a few at most) and started again for the next fake.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import respx

KEEP = 4  # stopped routers kept; a test suite routes one fake at a time
_kept: list[FakeRouter] = []
_kept_lock = threading.Lock()


class FakeRoute(respx.Route):
    """A route of a ``FakeRouter``, which never rolls back: so it keeps no snapshot (each
    is a mock object, about as costly to make as the rest of a route)."""

    def snapshot(self) -> None:
        return None

    def rollback(self) -> None:
        return None


class FakeRouter(respx.MockRouter):
    """A router started once and dropped when stopped, so it keeps no snapshots: respx
    makes a mock object per route for each, and they show in a test's set-up."""

    def snapshot(self) -> None:
        return None

    def rollback(self) -> None:
        return None

    def route(self, *patterns: Any, name: str | None = None, **lookups: Any) -> respx.Route:
        return self.add(FakeRoute(*patterns, **lookups), name=name)


def start(side_effect: Callable[[Any], Any]) -> FakeRouter:
    """A started router whose one route answers every request with ``side_effect``."""
    with _kept_lock:
        router = _kept.pop() if _kept else None
    if router is None:
        router = FakeRouter(assert_all_called=False, assert_all_mocked=False, using="httpx")
        router.route()
    router.routes[0].side_effect = side_effect
    router.start()
    return router


def stop(router: FakeRouter) -> None:
    """Stop routing; keep the router if it still has only its own route (its calls are
    forgotten, so the next fake's test starts from none)."""
    router.stop(clear=False)
    if len(router.routes) != 1:
        return
    router.routes[0].side_effect = None  # nothing of the fake stays referenced
    with _kept_lock:
        if len(_kept) < KEEP:
            _kept.append(router)
