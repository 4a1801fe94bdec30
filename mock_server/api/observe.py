"""The control API's rule book and its record: ``/_mock/scenarios``, ``/_mock/requests``
and ``/_mock/events`` (one timeline of requests, state changes, ledger entries and
callback attempts, on the server's clock)."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.routing import Route

from mock_server.api.control import guarded
from mock_server.api.httpio import read_json
from mock_server.service import events
from mock_server.service.fake import Fake
from mock_server.service.paging import parse_limit


async def add_scenarios(request: Request, fake: Fake) -> dict[str, Any]:
    """One rule, a list of rules, or ``{"rules": [...]}``; all or none are added."""
    body = await read_json(request, fake.config.max_body_bytes, param="rule")
    return {"rules": [r.to_json() for r in fake.rules.add(body)]}


async def list_scenarios(request: Request, fake: Fake) -> dict[str, Any]:
    return {"rules": fake.rules.to_json()}


async def delete_scenarios(request: Request, fake: Fake) -> dict[str, Any]:
    return {"rules": fake.rules.delete()}


async def delete_scenario(request: Request, fake: Fake) -> dict[str, Any]:
    return {"rules": fake.rules.delete(request.path_params["rule_id"])}


async def list_requests(request: Request, fake: Fake) -> dict[str, Any]:
    q = request.query_params
    entries, cursor = fake.journal.page(
        q.get("key"), q.get("task_id"), parse_limit(q.get("limit")), q.get("cursor")
    )
    return {"requests": entries, "count": len(entries), "next_cursor": cursor}


async def list_events(request: Request, fake: Fake) -> dict[str, Any]:
    q = request.query_params
    found, cursor = events.event_page(
        fake, q.get("key"), q.get("task_id"), parse_limit(q.get("limit")), q.get("cursor")
    )
    return {"events": found, "next_cursor": cursor}


routes = [
    Route("/scenarios", guarded(add_scenarios), methods=["POST"]),
    Route("/scenarios", guarded(list_scenarios), methods=["GET"]),
    Route("/scenarios", guarded(delete_scenarios), methods=["DELETE"]),
    Route("/scenarios/{rule_id}", guarded(delete_scenario), methods=["DELETE"]),
    Route("/requests", guarded(list_requests), methods=["GET"]),
    Route("/events", guarded(list_events), methods=["GET"]),
]
