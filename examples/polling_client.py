"""A small, well-behaved client of the Wan2.6 API, written for ``wanmock verify-client``.

It reads WANMOCK_BASE_URL, WANMOCK_API_KEY and WANMOCK_REQUEST (a create body, JSON),
creates the task, polls it until it ends, and prints one JSON line: the videos, or the
failure code. It retries 429, 502 and 503 (what EvoLink's own client retries) after
``Retry-After`` when the answer has one, else with exponential backoff, retries a call
whose answer never came in full (a dropped, reset or cut-short connection), reports
``failed`` when a create is answered 500 or 504 (the task may exist, so sending it again
could pay twice), and never sends the create again once it saw it answered. Standard
library only. ``POLL_SECONDS`` sets the longest wait between polls (default 2; a stepped
fake moves time per request, so a verification run can use a small value); ``RETRIES``
how often a call is retried (default 5; ``RETRIES=0`` makes it a client that gives up,
for the README's demo).
"""

from __future__ import annotations

import http.client
import json
import os
import sys
import time
import urllib.error
import urllib.request
from typing import Any

TRANSIENT = {429, 502, 503}
UNKNOWN = {500, 504}  # a create's outcome unknown: the task may exist
ATTEMPTS = 1 + int(os.environ.get("RETRIES", "5"))


def call(method: str, url: str, key: str, body: Any = None) -> Any:
    """One API call, retried on transient statuses; raises on any other error."""
    data = None if body is None else json.dumps(body).encode()
    for attempt in range(ATTEMPTS):
        request = urllib.request.Request(url, data=data, method=method)
        request.add_header("Authorization", f"Bearer {key}")
        request.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(request, timeout=60) as answer:
                return json.load(answer)
        except urllib.error.HTTPError as error:
            if error.code not in TRANSIENT or attempt == ATTEMPTS - 1:
                raise
            wait = error.headers.get("Retry-After")
            time.sleep(float(wait) if wait is not None else 0.1 * 2**attempt)
        except (urllib.error.URLError, http.client.HTTPException, OSError):
            # No answer seen in full (dropped, reset, cut short, timed out): sending it
            # again is safe, even a create, since its client never learnt of a task.
            if attempt == ATTEMPTS - 1:
                raise
            time.sleep(0.1 * 2**attempt)
    raise AssertionError("unreachable")


def main() -> int:
    base, key = os.environ["WANMOCK_BASE_URL"], os.environ["WANMOCK_API_KEY"]
    longest = float(os.environ.get("POLL_SECONDS", "2"))
    try:
        task = call(
            "POST", f"{base}/v1/videos/generations", key, json.loads(os.environ["WANMOCK_REQUEST"])
        )
    except urllib.error.HTTPError as error:
        if error.code not in UNKNOWN:
            raise
        # The server may have made the task: sending the create again could pay twice.
        print(json.dumps({"status": "failed", "error_code": "create_outcome_unknown"}))
        return 0
    wait = min(0.05, longest)
    while task["status"] not in ("completed", "failed"):
        time.sleep(wait)
        wait = min(wait * 2, longest)
        task = call("GET", f"{base}/v1/tasks/{task['id']}", key)
    if task["status"] == "completed":
        print(json.dumps({"status": "completed", "video_urls": task["results"]}))
    else:
        print(json.dumps({"status": "failed", "error_code": task["error"]["code"]}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
