"""One log line when something the fake stands on starts failing, and one when it works
again, however many requests meet the fault in between (a full disk, a database server
gone): a fault is an episode, and the log says when it began and ended."""

from __future__ import annotations

import logging
import threading

log = logging.getLogger("wanmock")


class FaultLog:
    def __init__(self, what: str) -> None:
        self.what = what
        self._failing = False
        self._lock = threading.Lock()

    def failed(self, reason: str) -> None:
        with self._lock:
            if not self._failing:
                self._failing = True
                log.warning(
                    "%s unavailable: %s; answering 503 until it recovers", self.what, reason
                )

    def worked(self) -> None:
        if self._failing:
            with self._lock:
                if self._failing:
                    self._failing = False
                    log.warning("%s recovered", self.what)
