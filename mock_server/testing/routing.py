"""The respx router that sends the real hosts' requests to an in-process fake.

Imported when a fake is first routed, so a test run that never routes pays nothing for
respx. Building a router and its route costs more than the rest of a small test's set-up
(respx makes ``unittest.mock`` objects for each call list), so routers are kept for reuse:
``take`` starts one aimed at a fake, ``give_back`` stops it and keeps it for the next.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import respx

Target = Callable[[httpx.Request], Any]


class FakeRouter(respx.MockRouter):
    """One catch-all route on httpx's clients (``using="httpx"``) whose side effect is
    ``target``; a request is passed on (respx's "pass through") when there is none.

    It keeps no snapshots: respx makes a mock object per route for each, and they show
    in a test's set-up."""

    def __init__(self) -> None:
        super().__init__(assert_all_called=False, assert_all_mocked=False, using="httpx")
        self.target: Target | None = None
        self.route().mock(side_effect=self._answer)

    def _answer(self, request: httpx.Request) -> Any:
        target = self.target
        return request if target is None else target(request)

    def snapshot(self) -> None:
        return None

    def rollback(self) -> None:
        return None


_idle: list[FakeRouter] = []


def take(target: Target) -> FakeRouter:
    """A started router answering with ``target``."""
    try:
        router = _idle.pop()
    except IndexError:
        router = FakeRouter()
    router.target = target
    router.start()
    return router


def give_back(router: FakeRouter) -> None:
    """Stop ``router`` (its calls are forgotten) and keep it, unless routes were added to
    it: those belong to the test that added them."""
    router.stop()
    router.target = None
    if len(router.routes) == 1:
        _idle.append(router)
