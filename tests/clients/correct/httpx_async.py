"""A correct asyncio client on ``httpx.AsyncClient``: creates once, reports ``failed``
when the create's outcome is unknown, and polls on a schedule that backs off, retrying
every poll failure three times (``Retry-After`` first)."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from typing import Any

import httpx

REFUSED = {429, 502, 503}
TRANSIENT = REFUSED | {500, 504}
RETRIES = 3


class Unknown(Exception):
    pass


async def call(http: httpx.AsyncClient, method: str, path: str, body: Any = None) -> Any:
    create = method == "POST"
    for attempt in range(RETRIES + 1):
        try:
            answer = await http.request(method, path, json=body)
            data = answer.json()
        except (httpx.TransportError, ValueError) as error:
            if create:
                raise Unknown(repr(error)) from error
            if attempt == RETRIES:
                raise
            await asyncio.sleep(0.05 * 2**attempt)
            continue
        if answer.status_code == 200:
            return data
        if create and answer.status_code in TRANSIENT - REFUSED:
            raise Unknown(str(answer.status_code))
        if answer.status_code not in TRANSIENT or attempt == RETRIES:
            answer.raise_for_status()
        after = answer.headers.get("Retry-After")
        await asyncio.sleep(float(after) if after is not None else 0.05 * 2**attempt)
    raise AssertionError("unreachable")


async def main() -> int:
    base, key = os.environ["WANMOCK_BASE_URL"], os.environ["WANMOCK_API_KEY"]
    request = json.loads(os.environ["WANMOCK_REQUEST"])
    async with httpx.AsyncClient(
        base_url=base, headers={"Authorization": f"Bearer {key}"}, timeout=10
    ) as http:
        try:
            task = await call(http, "POST", "/v1/videos/generations", request)
        except Unknown:
            print(json.dumps({"status": "failed", "error_code": "create_outcome_unknown"}))
            return 0
        wait = 0.03
        while task["status"] not in ("completed", "failed"):
            await asyncio.sleep(wait)
            wait = min(2 * wait, 0.25)
            task = await call(http, "GET", f"/v1/tasks/{task['id']}")
    if task["status"] == "completed":
        print(json.dumps({"status": "completed", "video_urls": task["results"]}))
    else:
        print(json.dumps({"status": "failed", "error_code": task["error"]["code"]}))
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
