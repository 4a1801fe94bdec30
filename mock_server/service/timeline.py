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
from mock_server.service.paging import decode_cursor, encode_cursor

# Tasks read per query when a listing filters by status (computed, not stored).
STATUS_SCAN_CHUNK = 500
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


def task_page(
    fake: Fake,
    key: str | None = None,
    status: str | None = None,
    limit: int = 100,
    cursor: str | None = None,
) -> tuple[list[Task], str | None]:
    """Up to ``limit`` tasks oldest first, of one key and in one status if asked, after
    ``cursor``; and the next page's cursor (None at the end). A status is computed from
    the clock, so that filter reads the store a chunk at a time until the page is full."""
    fake.settle_due()
    after = decode_cursor(cursor, "tasks", (float, str))
    position = (float(after[0]), str(after[1])) if after else None
    chunk = limit if not status else max(limit, STATUS_SCAN_CHUNK)
    found: list[Task] = []
    while True:
        page, following = fake.store.page_tasks(key, chunk, position)
        for task in page:
            if status and fake.observe(task).status != status:
                continue
            found.append(task)
            if len(found) == limit:
                more = task is not page[-1] or following is not None
                return found, encode_cursor("tasks", (task.plan.created, task.id) if more else None)
        if following is None:
            return found, None
        position = following


def journal_page(
    fake: Fake,
    key: str | None = None,
    task_id: str | None = None,
    limit: int = 100,
    cursor: str | None = None,
) -> tuple[list[dict[str, Any]], str | None]:
    """Up to ``limit`` journal entries oldest first after ``cursor``, and the next
    page's cursor (None when this page was not full)."""
    fake.journal.flush()
    after = decode_cursor(cursor, "requests", (int,))
    rows = fake.store.journal_page(
        key, task_id, int(after[0]) if after else 0, limit, fake.config.journal_limit
    )
    following = (rows[-1][0],) if len(rows) == limit else None
    return [decode(row) for row in rows], encode_cursor("requests", following)


def callback_page(
    fake: Fake, task_id: str | None = None, limit: int = 100, cursor: str | None = None
) -> dict[str, Any]:
    """Deliveries in the order they entered the outbox, each with every attempt."""
    fake.settle_due()
    after = decode_cursor(cursor, "callbacks", (int,))
    page, following = fake.outbox.describe_page(task_id, int(after[0]) if after else 0, limit)
    return {
        **page,
        "next_cursor": encode_cursor("callbacks", None if following is None else (following,)),
    }


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
