"""A correct client on the low-level ``http.client``, one connection per call, that
sends a create again whenever its outcome is unknown (500, 504, no answer, a broken
body): the one legitimate resubmission, since it never learnt of a task.

Refused creates and poll failures are retried too, up to five times; ``Retry-After``
is honoured, as an HTTP-date as well as seconds.
"""

from __future__ import annotations

import email.utils
import http.client
import json
import os
import sys
import time
import urllib.parse
from typing import Any

TRANSIENT = {429, 500, 502, 503, 504}
RETRIES = 5


def retry_after(value: str | None, attempt: int) -> float:
    if value is None:
        return 0.05 * 2**attempt
    try:
        return float(value)
    except ValueError:
        when = email.utils.parsedate_to_datetime(value)
        return max(0.0, when.timestamp() - time.time())


def call(base: str, key: str, method: str, path: str, body: Any = None) -> Any:
    url = urllib.parse.urlsplit(base)
    data = None if body is None else json.dumps(body)
    headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
    for attempt in range(RETRIES + 1):
        connection = http.client.HTTPConnection(url.hostname, url.port, timeout=10)
        try:
            connection.request(method, path, body=data, headers=headers)
            answer = connection.getresponse()
            raw = answer.read()
            status, after = answer.status, answer.getheader("Retry-After")
            parsed = json.loads(raw)
        except (OSError, http.client.HTTPException, ValueError):
            if attempt == RETRIES:
                raise
            time.sleep(0.05 * 2**attempt)
            continue
        finally:
            connection.close()
        if status == 200:
            return parsed
        if status not in TRANSIENT or attempt == RETRIES:
            raise RuntimeError(f"HTTP {status}: {parsed}")
        time.sleep(retry_after(after, attempt))
    raise AssertionError("unreachable")


def main() -> int:
    base, key = os.environ["WANMOCK_BASE_URL"], os.environ["WANMOCK_API_KEY"]
    task = call(
        base, key, "POST", "/v1/videos/generations", json.loads(os.environ["WANMOCK_REQUEST"])
    )
    pause = 0.02
    while task["status"] not in ("completed", "failed"):
        time.sleep(pause)
        pause = min(pause + 0.04, 0.2)
        task = call(base, key, "GET", f"/v1/tasks/{task['id']}")
    if task["status"] == "completed":
        print(json.dumps({"status": "completed", "video_urls": task["results"]}))
    else:
        print(json.dumps({"status": "failed", "error_code": task["error"]["code"]}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
