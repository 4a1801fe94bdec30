"""A correct client on one pooled keep-alive ``httpx.Client``: it sends a create whose
outcome is unknown once more, then reports ``failed`` if that is unknown too.

Refused creates (429/502/503) and every poll failure are retried three times, after
``Retry-After`` or an exponential backoff with jitter.
"""

from __future__ import annotations

import json
import os
import random
import sys
import time
from typing import Any

import httpx

REFUSED = {429, 502, 503}
UNKNOWN = {500, 504}
RETRIES = 3


class Unknown(Exception):
    """A create whose answer never said whether a task exists."""


def pause(answer: httpx.Response | None, attempt: int) -> None:
    after = answer.headers.get("Retry-After") if answer is not None else None
    time.sleep(float(after) if after else 0.04 * 2**attempt + random.uniform(0, 0.02))


def once(http: httpx.Client, method: str, path: str, body: Any) -> httpx.Response:
    """One request; a broken answer (transport error, unreadable JSON) raises Unknown."""
    try:
        answer = http.request(method, path, json=body)
        answer.json()
    except (httpx.TransportError, ValueError) as error:
        raise Unknown(type(error).__name__) from error
    return answer


def call(http: httpx.Client, method: str, path: str, body: Any = None) -> Any:
    unknowns = 0
    for attempt in range(RETRIES + 1):
        answer = None
        try:
            answer = once(http, method, path, body)
        except Unknown:
            if method == "POST":
                unknowns += 1
                if unknowns > 1:
                    raise
        else:
            if answer.status_code == 200:
                return answer.json()
            if method == "POST" and answer.status_code in UNKNOWN:
                unknowns += 1
                if unknowns > 1:
                    raise Unknown(str(answer.status_code))
            elif answer.status_code not in REFUSED | UNKNOWN:
                answer.raise_for_status()
        if attempt < RETRIES:
            pause(answer, attempt)
    raise Unknown("retries spent") if method == "POST" else RuntimeError("poll retries spent")


def main() -> int:
    base, key = os.environ["WANMOCK_BASE_URL"], os.environ["WANMOCK_API_KEY"]
    headers = {"Authorization": f"Bearer {key}"}
    with httpx.Client(base_url=base, headers=headers, timeout=10) as http:
        try:
            task = call(
                http, "POST", "/v1/videos/generations", json.loads(os.environ["WANMOCK_REQUEST"])
            )
        except Unknown:
            print(json.dumps({"status": "failed", "error_code": "create_outcome_unknown"}))
            return 0
        while task["status"] not in ("completed", "failed"):
            time.sleep(0.1)
            task = call(http, "GET", f"/v1/tasks/{task['id']}")
    if task["status"] == "completed":
        print(json.dumps({"status": "completed", "video_urls": task["results"]}))
    else:
        print(json.dumps({"status": "failed", "error_code": task["error"]["code"]}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
