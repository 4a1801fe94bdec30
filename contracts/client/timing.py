"""The wall and the stopwatch the verifier reads: the standard library's, not the fake's.

The contract's client side judges a client by real time (how long a run took, when a
request arrived); it has no need of the fake's clocks (``mock_server.runtime.clock``),
which exist to move *server* time. Keeping this here lets the client side run against a
real endpoint without importing the fake.
"""

from __future__ import annotations

import time


def monotonic() -> float:
    """Seconds on a clock that never goes back: for durations and deadlines."""
    return time.perf_counter()


def wall_time() -> float:
    """Wall-clock seconds since the epoch: for journal times compared across processes."""
    return time.time()
