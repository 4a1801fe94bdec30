"""Reading the fake's record: tasks with their plans, and one timeline of requests,
state changes, ledger entries and callback attempts on the server clock.

Named operations the control API and the dashboard call; they read the store (the
truth every process shares) and never reach into a handler's request.
"""

from __future__ import annotations

from typing import Any

from mock_server.domain import lifecycle
from mock_server.domain.billing import credits_text
from mock_server.domain.models import Task
from mock_server.runtime.journal import decode
from mock_server.service.fake import Fake

# Same instant: the request comes first, then what it caused.
KIND_ORDER = {"request": 0, "task": 1, "ledger": 2, "callback": 3}


def describe(fake: Fake, task: Task) -> dict[str, Any]:
    """A task as the control API shows it: the public object plus plan and history."""
    return {
        "task": fake.task_body(task),
        "key": task.key,
        "request": task.request.to_json(),
        "plan": task.plan.to_json(),
        "history": lifecycle.history(task.plan, fake.now()),
        "billing": {
            "reserved": credits_text(task.reserved),
            "input_seconds": credits_text(task.input_seconds),
            "reference_seconds": [credits_text(s) for s in task.reference_seconds],
            "settled": task.settled,
        },
    }


def list_tasks(fake: Fake, key: str | None = None, status: str | None = None) -> list[Task]:
    """Tasks oldest first, of one key and in one status if asked."""
    fake.settle_due()
    tasks = fake.store.list_tasks(key)
    if status:
        tasks = [t for t in tasks if fake.observe(t).status == status]
    return tasks


def journal(
    fake: Fake, key: str | None = None, task_id: str | None = None, limit: int = 1000
) -> list[dict[str, Any]]:
    """The newest ``limit`` journal entries that match, oldest first."""
    fake.journal.flush()
    rows = fake.store.journal(key, task_id, limit, fake.config.journal_limit)
    return [decode(row) for row in rows]


def timeline(
    fake: Fake, key: str | None = None, task_id: str | None = None, limit: int = 1000
) -> list[dict[str, Any]]:
    fake.settle_due()
    now = fake.now()
    events = journal(fake, key, task_id, limit)
    tasks = fake.store.list_tasks(key, None if task_id is None else [task_id])
    owners = {t.id: t.key for t in tasks}
    for task in tasks:
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
        if key is None or owners.get(attempt["task_id"], key) == key:
            events.append({**attempt, "kind": "callback", "at": attempt["attempted_at"]})
    events.sort(key=lambda e: (e["at"], KIND_ORDER[e["kind"]], e.get("seq", 0)))
    return events
