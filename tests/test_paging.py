"""Paged control-API listings: ``limit`` and an opaque ``cursor``
(docs/control-api.md "Control API")."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.conftest import Api

MANY = {"sk-wanmock-test": {"credits": "1000000"}}


def pages(api: Api, path: str, field: str, limit: int, **query: str) -> list[list[Any]]:
    """Every page of a listing, following ``next_cursor`` until it is null."""
    found: list[list[Any]] = []
    cursor = None
    while True:
        params = {**query, "limit": str(limit), **({"cursor": cursor} if cursor else {})}
        response = api.control("GET", path, params=params)
        assert response.status_code == 200, response.text
        body = response.json()
        found.append(body[field])
        cursor = body["next_cursor"]
        if cursor is None:
            return found
        assert len(found) < 100, "the cursor never ends"


@pytest.fixture
def busy(make_api: Callable[..., Api]) -> Api:
    """Seven tasks, some polled, time moved: every listing has a few pages."""
    api = make_api()
    api.fake.put_keys(MANY)
    ids = [api.created()["id"] for _ in range(7)]
    for task_id in ids[:3]:
        api.poll(task_id)
    api.advance(50)  # past the longest queue (10-45 s): the first task is processing
    api.control("POST", f"/tasks/{ids[0]}/complete")
    api.advance(3600)
    return api


def test_paging_tasks_returns_every_task_exactly_once(busy: Api) -> None:
    paged = pages(busy, "/tasks", "tasks", 3)
    assert [len(p) for p in paged] == [3, 3, 1]
    ids = [t["task"]["id"] for page in paged for t in page]
    everything = busy.control("GET", "/tasks", params={"limit": "1000"}).json()["tasks"]
    assert ids == [t["task"]["id"] for t in everything]
    assert len(set(ids)) == 7


def test_paging_tasks_with_a_status_filter_keeps_the_filter(busy: Api) -> None:
    busy.created()  # one still pending
    paged = pages(busy, "/tasks", "tasks", 2, status="completed")
    statuses = [t["task"]["status"] for page in paged for t in page]
    assert statuses == ["completed"] * 7


def test_paging_requests_returns_every_entry_exactly_once(busy: Api) -> None:
    seqs = [e["seq"] for page in pages(busy, "/requests", "requests", 4) for e in page]
    everything = busy.control("GET", "/requests", params={"limit": "1000"}).json()["requests"]
    assert seqs == [e["seq"] for e in everything]
    assert len(seqs) == len(set(seqs)) == 10  # 7 creates, 3 polls


def test_paging_events_returns_every_event_exactly_once(busy: Api) -> None:
    paged = [e for page in pages(busy, "/events", "events", 5) for e in page]
    everything = busy.control("GET", "/events", params={"limit": "1000"}).json()["events"]
    assert paged == everything
    assert len(everything) > 30  # requests, state changes, ledger entries


def test_paging_events_of_one_task_keeps_the_filter(busy: Api) -> None:
    task_id = busy.control("GET", "/tasks").json()["tasks"][0]["task"]["id"]
    paged = [e for page in pages(busy, "/events", "events", 2, task_id=task_id) for e in page]
    assert {e["task_id"] for e in paged} == {task_id}
    assert [e["kind"] for e in paged].count("task") == 3  # pending, processing, completed


def test_paging_limit_has_a_default_and_a_maximum(busy: Api) -> None:
    for _ in range(100):
        busy.poll("task-unified-1-aaaaaaaa")
    body = busy.control("GET", "/requests").json()
    assert len(body["requests"]) == 100
    assert body["next_cursor"] is not None
    assert busy.control("GET", "/tasks", params={"limit": "1001"}).status_code == 400


@pytest.mark.parametrize("path", ["/tasks", "/requests", "/events", "/callbacks"])
@pytest.mark.parametrize("cursor", ["nonsense", "W10", "WyJ0YXNrcyIsIHt9LCAxXQ"])
def test_paging_foreign_cursor_is_400(busy: Api, path: str, cursor: str) -> None:
    response = busy.control("GET", path, params={"cursor": cursor})
    assert response.status_code == 400
    assert response.json()["error"]["param"] == "cursor"
