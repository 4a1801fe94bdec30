"""A correct client in the standard library alone (urllib), that reports ``failed`` when a
create's outcome is unknown rather than risk paying twice.

Polls are retried on 429/500/502/503/504 and on a broken connection, three times, after
``Retry-After`` or a short backoff; a create is retried when refused (429/502/503); a
create answered 500/504 or never answered in full ends the run as failed.
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

REFUSED = {429, 502, 503}
TRANSIENT = REFUSED | {500, 504}
RETRIES = 3


class Unknown(Exception):
    """The create may or may not have made a task."""


def send(method: str, url: str, key: str, body: Any = None) -> Any:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method=method)
    request.add_header("Authorization", f"Bearer {key}")
    request.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(request, timeout=10) as answer:
        return json.loads(answer.read())


def call(method: str, url: str, key: str, body: Any = None) -> Any:
    create = method == "POST"
    for attempt in range(RETRIES + 1):
        last = attempt == RETRIES
        try:
            return send(method, url, key, body)
        except urllib.error.HTTPError as error:
            if create and error.code not in REFUSED:
                if error.code in TRANSIENT:
                    raise Unknown(str(error.code)) from error
                raise
            if error.code not in TRANSIENT or last:
                raise
            after = error.headers.get("Retry-After")
            time.sleep(float(after) if after is not None else 0.05 * 2**attempt)
        except (urllib.error.URLError, http.client.HTTPException, OSError, ValueError) as error:
            if create:
                raise Unknown(type(error).__name__) from error
            if last:
                raise
            time.sleep(0.05 * 2**attempt)
    raise AssertionError("unreachable")


def main() -> int:
    base, key = os.environ["WANMOCK_BASE_URL"], os.environ["WANMOCK_API_KEY"]
    try:
        task = call(
            "POST", f"{base}/v1/videos/generations", key, json.loads(os.environ["WANMOCK_REQUEST"])
        )
    except Unknown:
        print(json.dumps({"status": "failed", "error_code": "create_outcome_unknown"}))
        return 0
    wait = 0.05
    while task["status"] not in ("completed", "failed"):
        time.sleep(wait)
        wait = min(wait * 1.5, 0.3)
        task = call("GET", f"{base}/v1/tasks/{task['id']}", key)
    if task["status"] == "completed":
        print(json.dumps({"status": "completed", "video_urls": task["results"]}))
    else:
        print(json.dumps({"status": "failed", "error_code": task["error"]["code"]}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
