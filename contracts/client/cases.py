"""What the client is handed: a drawn create request made safe to run offline, and the
examples (world and request) the verifier searches, with simpler requests for its polish."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from hypothesis import strategies as st

from contracts import strategies
from contracts.client.world import Case


def client_request(body: Mapping[str, Any], callback_url: str) -> dict[str, Any]:
    """A drawn create body with simple references, and the receiver as its callback.

    The fake bills references it cannot probe at ``--reference-seconds``, and never
    fetches them, so plain example.com URLs keep every run offline; a prompt cannot
    carry a magic token the world did not choose.
    """
    request = dict(body)
    count = len(body["video_urls"])
    request["video_urls"] = [f"https://example.com/wanmock/ref-{i}.mp4" for i in range(count)]
    request["prompt"] = str(body["prompt"]).replace("[wanmock:", "[wanmock ")
    if "callback_url" in request:
        request["callback_url"] = callback_url
    return request


def simpler_requests(body: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Requests one step simpler: without one optional field, one reference, a short prompt."""
    found = [
        {k: v for k, v in body.items() if k != name}
        for name in body
        if name not in ("model", "prompt", "video_urls")
    ]
    if len(body["video_urls"]) > 1:
        found.append({**body, "video_urls": body["video_urls"][:1]})
    if body["prompt"] != "a":
        found.append({**body, "prompt": "a"})
    return found


def cases(
    max_retry_after: int = 1, max_consecutive_failures: int = strategies.MAX_CONSECUTIVE_FAILURES
) -> st.SearchStrategy[Case]:
    """A world and a create request; shrinks both towards the simplest."""
    return st.builds(
        Case,
        strategies.server_worlds(
            max_retry_after=max_retry_after, max_consecutive_failures=max_consecutive_failures
        ),
        strategies.create_requests(),
    )
