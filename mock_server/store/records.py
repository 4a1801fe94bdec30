"""What the store hands its callers besides rows: the errors it raises.

``StoreUnavailable`` is the one error a caller may meet when the database under the
store fails for a while (a full or read-only disk, a PostgreSQL server gone): the
store's transaction wrapper turns the driver's error into it, and the HTTP layer answers
it with 503 and ``Retry-After`` (README "When the database fails").
"""

from __future__ import annotations

import logging
import threading

log = logging.getLogger("wanmock")


class StoreError(Exception):
    """The store cannot be used as it is (an older layout, say); the message says why."""


class StoreUnavailable(StoreError):
    """The database cannot do what was asked now; the same request may work later.

    Nothing was committed by the transaction that raised it."""


class FaultLog:
    """One log line when a store starts failing and one when it works again, however
    many requests meet the fault in between."""

    def __init__(self, store: str) -> None:
        self.store = store
        self._failing = False
        self._lock = threading.Lock()

    def failed(self, exc: BaseException) -> StoreUnavailable:
        """The error to raise instead of ``exc``; logged if it starts a fault."""
        reason = " ".join(str(exc).split()) or type(exc).__name__
        with self._lock:
            if not self._failing:
                self._failing = True
                log.warning(
                    "store %s unavailable: %s; answering 503 until it recovers", self.store, reason
                )
        return StoreUnavailable(f"the store {self.store} is unavailable: {reason}")

    def worked(self) -> None:
        """A transaction committed: a fault, if there was one, is over."""
        if self._failing:
            with self._lock:
                if self._failing:
                    self._failing = False
                    log.warning("store %s recovered", self.store)
