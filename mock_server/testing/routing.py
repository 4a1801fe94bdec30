"""The respx router that sends the real hosts' requests to an in-process fake.

Imported when a fake is first routed, so a test run that never routes pays nothing for
respx.
"""

from __future__ import annotations

from typing import Any

import respx


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
