"""The control API's rule book and its record: ``/_mock/scenarios``, ``/_mock/requests``
and ``/_mock/events`` (one timeline of requests, state changes, ledger entries and
callback attempts, on the server's clock)."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.routing import Route

from mock_server.api.control import guarded
from mock_server.api.httpio import read_json
from mock_server.domain import lifecycle
from mock_server.domain.errors import invalid
from mock_server.domain.scenarios import load_rules
from mock_server.runtime.journal import decode
from mock_server.service.fake import Fake

# Same instant: the request comes first, then what it caused.
KIND_ORDER = {"request": 0, "task": 1, "ledger": 2, "callback": 3}


def _limit(request: Request) -> int:
    raw = request.query_params.get("limit", "1000")
    if not raw.isdigit() or not 0 < int(raw) <= 100_000:
        raise invalid("limit", "limit must be an integer from 1 to 100000")
    return int(raw)


async def add_scenarios(request: Request, fake: Fake) -> dict[str, Any]:
    """One rule, a list of rules, or ``{"rules": [...]}``; all or none are added."""
    body = await read_json(request, fake.config.max_body_bytes, param="rule")
    trial = type(fake.scenarios).restore(fake.scenarios.to_json())
    load_rules(body, trial, "control")  # raises on the first bad rule, adding nothing
    added = load_rules(body, fake.scenarios, "control")
    fake.save_scenarios()
    return {"rules": [r.to_json() for r in added]}


async def list_scenarios(request: Request, fake: Fake) -> dict[str, Any]:
    return {"rules": fake.scenarios.to_json()}


async def delete_scenarios(request: Request, fake: Fake) -> dict[str, Any]:
    fake.scenarios.clear()
    fake.save_scenarios()
    return {"rules": []}


async def delete_scenario(request: Request, fake: Fake) -> dict[str, Any]:
    fake.scenarios.remove(request.path_params["rule_id"])
    fake.save_scenarios()
    return {"rules": fake.scenarios.to_json()}


def journal(fake: Fake, request: Request) -> list[dict[str, Any]]:
    fake.journal.flush()
    q = request.query_params
    rows = fake.store.journal(
        q.get("key"), q.get("task_id"), _limit(request), fake.config.journal_limit
    )
    return [decode(row) for row in rows]


async def list_requests(request: Request, fake: Fake) -> dict[str, Any]:
    entries = journal(fake, request)
    return {"requests": entries, "count": len(entries)}


def timeline(fake: Fake, request: Request) -> list[dict[str, Any]]:
    key, task_id = request.query_params.get("key"), request.query_params.get("task_id")
    now = fake.now()
    events = journal(fake, request)
    for task in fake.tasks.values():
        if (key and task.key != key) or (task_id and task.id != task_id):
            continue
        for step in lifecycle.history(task.plan, now):
            event = {
                "at": step["at"],
                "kind": "task",
                "task_id": task.id,
                "key": task.key,
                "status": step["status"],
            }
            if step["status"] == "failed":
                event["error_code"] = task.plan.error_code
            events.append(event)
    for entry in fake.store.ledger_entries(key):
        if task_id is None or entry.task_id == task_id:
            events.append({**entry.to_json(), "kind": "ledger", "ledger_kind": entry.kind})
    for attempt in fake.outbox.describe(task_id)["attempts"]:
        if (
            key is None
            or fake.tasks.get(attempt["task_id"], None) is None
            or fake.tasks[attempt["task_id"]].key == key
        ):
            events.append({**attempt, "kind": "callback", "at": attempt["attempted_at"]})
    events.sort(key=lambda e: (e["at"], KIND_ORDER[e["kind"]], e.get("seq", 0)))
    return events


async def list_events(request: Request, fake: Fake) -> dict[str, Any]:
    fake.settle_due()
    return {"events": timeline(fake, request)}


routes = [
    Route("/scenarios", guarded(add_scenarios), methods=["POST"]),
    Route("/scenarios", guarded(list_scenarios), methods=["GET"]),
    Route("/scenarios", guarded(delete_scenarios), methods=["DELETE"]),
    Route("/scenarios/{rule_id}", guarded(delete_scenario), methods=["DELETE"]),
    Route("/requests", guarded(list_requests), methods=["GET"]),
    Route("/events", guarded(list_events), methods=["GET"]),
]
