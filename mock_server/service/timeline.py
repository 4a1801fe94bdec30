"""The control API's listings of tasks and deliveries: a task with its plan, history
and money, a page of tasks, a page of deliveries.

Named operations over the services (``fake.tasks``, ``fake.time``, ``fake.outbox``):
they read the store through them (the truth every process shares) and never reach into
a handler's request. Each bills what is due first, so a listing never lags the clock.
"""

from __future__ import annotations

from typing import Any, Unpack

from mock_server.domain import lifecycle
from mock_server.domain.billing import credits_text
from mock_server.domain.models import Outcome, Task
from mock_server.service.fake import Fake
from mock_server.service.paging import decode_cursor, encode_cursor
from mock_server.service.timekeeper import Ending

# Tasks read per query when a listing filters by status (computed, not stored).
STATUS_SCAN_CHUNK = 500


def describe(fake: Fake, task: Task) -> dict[str, Any]:
    """A task as the control API shows it: the public object plus plan and history."""
    return {
        "task": fake.tasks.body(task),
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


def describe_task(fake: Fake, task_id: str) -> dict[str, Any]:
    """``GET /_mock/tasks/{id}``: any key's task, described, after billing what is due."""
    fake.time.settle_due()
    return describe(fake, fake.tasks.fresh(task_id))


async def end_task(
    fake: Fake, task_id: str, outcome: Outcome, **ending: Unpack[Ending]
) -> dict[str, Any]:
    """``POST /_mock/tasks/{id}/complete|fail|cancel``: end the task now, make the
    callback that made due, and describe the task as it then stands."""
    return describe(fake, await fake.time.end(task_id, outcome, **ending))


def task_page(
    fake: Fake,
    key: str | None = None,
    status: str | None = None,
    limit: int = 100,
    cursor: str | None = None,
) -> dict[str, Any]:
    """``GET /_mock/tasks``: a page of tasks described, and the next page's cursor."""
    fake.time.settle_due()
    tasks, following = _tasks_after(fake, key, status, limit, cursor)
    return {"tasks": [describe(fake, t) for t in tasks], "next_cursor": following}


def _tasks_after(
    fake: Fake, key: str | None, status: str | None, limit: int, cursor: str | None
) -> tuple[list[Task], str | None]:
    """Up to ``limit`` tasks oldest first, of one key and in one status if asked, after
    ``cursor``; and the next page's cursor (None at the end). A status is computed from
    the clock, so that filter reads a chunk at a time until the page is full."""
    after = decode_cursor(cursor, "tasks", (float, str))
    position = (float(after[0]), str(after[1])) if after else None
    chunk = limit if not status else max(limit, STATUS_SCAN_CHUNK)
    found: list[Task] = []
    while True:
        page, following = fake.tasks.page(key, chunk, position)
        for task in page:
            if status and fake.tasks.observe(task).status != status:
                continue
            found.append(task)
            if len(found) == limit:
                more = task is not page[-1] or following is not None
                return found, encode_cursor("tasks", (task.plan.created, task.id) if more else None)
        if following is None:
            return found, None
        position = following


def callback_page(
    fake: Fake, task_id: str | None = None, limit: int = 100, cursor: str | None = None
) -> dict[str, Any]:
    """Deliveries in the order they entered the outbox, each with every attempt."""
    fake.time.settle_due()
    after = decode_cursor(cursor, "callbacks", (int,))
    page, following = fake.outbox.describe_page(task_id, int(after[0]) if after else 0, limit)
    return {
        **page,
        "next_cursor": encode_cursor("callbacks", None if following is None else (following,)),
    }
