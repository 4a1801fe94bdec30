"""How ``wanmock serve`` stops: a SIGTERM or SIGINT is a clean stop that exits 0.

uvicorn shuts down gracefully on those signals (stop listening, let requests in flight
finish for ``timeout_graceful_shutdown``, run the app's shutdown) and then raises the
signal again, so the process dies by it and ``wait $pid`` in a CI script reports a
failure after a clean stop. ``CleanStop`` keeps the graceful part and leaves out the
re-raise; a second SIGINT still forces the stop, as in uvicorn.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator

import uvicorn

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


class CleanStop(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        if threading.current_thread() is not threading.main_thread():
            yield  # signals reach only the main thread: whoever runs us handles them
            return
        previous = {sig: signal.signal(sig, self.handle_exit) for sig in STOP_SIGNALS}
        try:
            yield
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
