"""An open dashboard, as the bench sees it: a process that polls ``/_mock/ui/state`` the
way the page does (once a second, sending the versions it holds, so only sections that
moved come back) until it is stopped; on SIGTERM it prints one JSON line with what it
did. ``make bench`` runs it beside one of two identical wanmock servers and compares the
API polls per second each serves (docs/dashboard.md: the dashboard open costs the API < 10 %).

    python -m bench.dashboard http://127.0.0.1:8080 --interval 1
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
import time
from collections.abc import Sequence
from urllib.parse import urlencode

import httpx

INTERVAL_S = 1.0  # the page's POLL_MS (mock_server/api/ui/static/app.js)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.dashboard")
    parser.add_argument("base_url")
    parser.add_argument("--interval", type=float, default=INTERVAL_S)
    args = parser.parse_args(argv)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    polls = sections = answer_bytes = failures = 0
    since = ""
    started = time.perf_counter()
    with httpx.Client(base_url=args.base_url, trust_env=False, timeout=10) as http:
        print("ready", file=sys.stderr, flush=True)
        while not stop.is_set():
            try:
                answer = http.get("/_mock/ui/state?" + urlencode({"since": since}))
                state = answer.json()
                since = ",".join(f"{name}:{v}" for name, v in state["v"].items())
                polls += 1
                sections += len(state["html"])
                answer_bytes += len(answer.content)
            except (httpx.HTTPError, ValueError, KeyError):
                failures += 1
            stop.wait(args.interval)
    elapsed = time.perf_counter() - started
    print(
        json.dumps(
            {
                "polls": polls,
                "failures": failures,
                "sections_sent": sections,
                "mean_answer_bytes": answer_bytes / polls if polls else None,
                "polls_per_s": polls / elapsed if elapsed else None,
            }
        ),
        flush=True,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
