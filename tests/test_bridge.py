"""Requests into the in-process fake: sync callers drive its loop, async ones hand off."""

from __future__ import annotations

import asyncio
import threading
from decimal import Decimal
from typing import Any

import httpx

from mock_server.testing.bridge import Bridge
from mock_server.testing.embedded import EmbeddedFake


async def echo(scope: Any, receive: Any, send: Any) -> None:
    body = (await receive())["body"]
    headers = [(b"content-type", b"text/plain")]
    await send({"type": "http.response.start", "status": 201, "headers": headers})
    answer = f"{scope['method']} {scope['path']}?{scope['query_string'].decode()} ".encode()
    await send({"type": "http.response.body", "body": answer + body})


def test_bridge_serves_a_request_as_asgi_transport_would() -> None:
    bridge = Bridge(echo)
    request = httpx.Request("POST", "https://api.evolink.ai/v1/a%20b?x=1", content=b"hi")
    response = bridge.handle(request)
    assert isinstance(response, httpx.Response)
    assert (response.status_code, response.text) == (201, "POST /v1/a b?x=1 hi")
    bridge.close(lambda: None)


def test_bridge_sync_callers_start_no_thread() -> None:
    before = threading.active_count()
    fake = EmbeddedFake()
    fake.route()
    answer = httpx.get("https://api.evolink.ai/v1/credits", headers={"Authorization": "Bearer x"})
    fake.advance(60)
    assert answer.status_code == 401
    assert threading.active_count() == before
    fake.close()


def test_bridge_async_callers_reach_the_same_fake_as_sync_ones() -> None:
    fake = EmbeddedFake()
    fake.route()
    auth = {"Authorization": f"Bearer {fake.api_key}"}
    body = {"model": "wan2.6-reference-video", "prompt": "x", "video_urls": ["https://e.com/a.mp4"]}
    created = httpx.post("https://api.evolink.ai/v1/videos/generations", json=body, headers=auth)

    async def poll() -> Any:
        fake.advance(3600)  # a sync call from async code
        async with httpx.AsyncClient() as client:
            url = f"https://api.evolink.ai/v1/tasks/{created.json()['id']}"
            return (await client.get(url, headers=auth)).json()

    assert asyncio.run(poll())["status"] == "completed"
    assert fake.tasks()[0]["task"]["status"] == "completed"
    fake.close()


def test_bridge_a_router_kept_from_a_closed_fake_routes_only_to_the_next() -> None:
    auth = {"Authorization": "Bearer sk-other"}
    first = EmbeddedFake(api_key=(("sk-other", Decimal(10)),))
    first.route()
    assert httpx.get("https://api.evolink.ai/v1/credits", headers=auth).status_code == 200
    first.close()
    second = EmbeddedFake()
    router = second.route()
    assert router.calls.call_count == 0
    assert httpx.get("https://api.evolink.ai/v1/credits", headers=auth).status_code == 401
    assert router.calls.call_count == 1
    second.close()
