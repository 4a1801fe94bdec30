"""Read operations for the dashboard (``/_mock/ui``): named views of a fake's state.

The page needs a few things the control API does not answer directly: the newest tasks
with their charge, each delivery's retries still to come, and cheap fingerprints that
tell whether a section changed since the last poll. They are read here, through the
fake's public attributes and the outbox's own ``describe``, so the handlers never reach
into ``Fake``'s fields and the control API stays as it is.
"""

from __future__ import annotations

import hashlib
import itertools
from collections.abc import Iterable
from decimal import Decimal
from typing import Any, Final

from mock_server.delivery.attempt import MAX_ATTEMPTS, RETRY_DELAYS
from mock_server.domain import billing, faults
from mock_server.domain.billing import credits_text
from mock_server.domain.models import Task
from mock_server.runtime.journal import decode
from mock_server.service.fake import Fake

TASKS_SHOWN: Final = 50
JOURNAL_SHOWN: Final = 50
LEDGER_ENTRIES_SHOWN: Final = 8
CALLBACKS_SHOWN: Final = 30


def fingerprint(*parts: object) -> str:
    """A short version tag: equal parts, equal tag."""
    return hashlib.blake2b(repr(parts).encode(), digest_size=6).hexdigest()


def clock(fake: Fake) -> dict[str, Any]:
    return {
        "mode": fake.clock.mode,
        "now": fake.now(),
        "can_advance": fake.clock.can_advance(),
        "time_scale": fake.config.time_scale,
        "step": fake.config.step,
    }


def failure_codes() -> list[tuple[str, str]]:
    """The real service's failed-task codes and their messages (``faults.TASK_ERRORS``)."""
    return list(faults.TASK_ERRORS.items())


def recent_tasks(fake: Fake, limit: int = TASKS_SHOWN) -> list[Task]:
    """The newest ``limit`` tasks, newest first (tasks are kept in creation order)."""
    return list(itertools.islice(reversed(fake.tasks.values()), limit))


def charge(fake: Fake, task: Task) -> Decimal | None:
    """What the task was charged: the price, once it settled as completed; else None."""
    if not task.settled or task.plan.outcome != "completed":
        return None
    return billing.request_cost(
        fake.config.models[task.request.model], task.request, task.input_seconds
    )


def task_row(fake: Fake, task: Task) -> dict[str, Any]:
    """One task as the dashboard shows it: what was asked, where it is, what it cost."""
    seen = fake.observe(task)
    body = fake.task_body(task) if seen.status == "completed" else {}
    request = task.request
    charged = charge(fake, task)
    return {
        "id": task.id,
        "key": task.key,
        "created": task.plan.created,
        "prompt": request.prompt,
        "model": request.model,
        "quality": request.quality,
        "aspect_ratio": request.aspect_ratio,
        "duration": request.duration,
        "callback_url": request.callback_url,
        "status": seen.status,
        "progress": seen.progress,
        "error_code": task.plan.error_code if seen.status == "failed" else None,
        "error_message": task.plan.error_message if seen.status == "failed" else None,
        "reserved": credits_text(task.reserved),
        "charge": None if charged is None else credits_text(charged),
        "settled": task.settled,
        "results": body.get("results", []),
    }


def tasks_version(fake: Fake, limit: int = TASKS_SHOWN) -> str:
    """Changes when a task is created, moves (status, progress) or settles."""
    shown = recent_tasks(fake, limit)
    return fingerprint(
        len(fake.tasks), [(t.id, fake.observe(t), t.settled, t.plan.finish) for t in shown]
    )


def list_tasks(fake: Fake, limit: int = TASKS_SHOWN) -> tuple[list[dict[str, Any]], int]:
    """The newest tasks as rows, and how many tasks there are in all."""
    return [task_row(fake, t) for t in recent_tasks(fake, limit)], len(fake.tasks)


def unfinished(fake: Fake, limit: int = TASKS_SHOWN) -> list[str]:
    """Ids of the newest tasks that have not ended: what complete/fail/cancel can steer."""
    return [t.id for t in recent_tasks(fake, limit) if fake.observe(t).status in _RUNNING]


_RUNNING: Final = ("pending", "processing")


def balances(fake: Fake) -> dict[str, dict[str, str]]:
    """Every key's balance (configured keys first, then any other key with entries)."""
    names = list(dict.fromkeys([*fake.keys, *fake.ledger.balances]))
    return {k: fake.ledger.balance(k).to_json() for k in names}


def ledger_version(fake: Fake) -> str:
    """Changes with any balance, and when a shown task is created or settles (a reserve
    and its release may cancel out between two polls)."""
    return fingerprint(sorted(balances(fake).items()), tasks_version(fake))


def ledger(fake: Fake, per_key: int = LEDGER_ENTRIES_SHOWN) -> dict[str, Any]:
    """Balances and each key's newest entries (newest first)."""
    recent: dict[str, list[dict[str, Any]]] = {}
    for entry in reversed(fake.store.ledger_entries()):
        rows = recent.setdefault(entry.key, [])
        if len(rows) < per_key:
            rows.append(entry.to_json())
    return {"balances": balances(fake), "entries": recent}


def retries_to_come(attempts_made: int, next_due: float | None) -> list[float]:
    """The earliest times of the attempts still to come: the next one when it is due,
    then 2 and 4 s after each failure (``RETRY_DELAYS``), up to ``MAX_ATTEMPTS``."""
    if next_due is None:
        return []
    times, at = [next_due], next_due
    for number in range(attempts_made + 2, MAX_ATTEMPTS + 1):
        at += RETRY_DELAYS[number - 2]
        times.append(at)
    return times


def callbacks(fake: Fake, limit: int = CALLBACKS_SHOWN) -> list[dict[str, Any]]:
    """The newest deliveries, each with its attempts and the retries still to come."""
    described = fake.outbox.describe()
    by_task: dict[str, list[dict[str, Any]]] = {}
    for attempt in described["attempts"]:
        by_task.setdefault(attempt["task_id"], []).append(attempt)
    order = {task_id: n for n, task_id in enumerate(fake.tasks)}
    deliveries = sorted(
        described["callbacks"], key=lambda d: order.get(d["task_id"], -1), reverse=True
    )[:limit]
    out = []
    for delivery in deliveries:
        pending = delivery["state"] == "pending"
        next_due = delivery["next_attempt_at"] if pending else None
        out.append(
            {
                **delivery,
                "attempt_log": sorted(
                    by_task.get(delivery["task_id"], []), key=lambda a: a["number"]
                ),
                "to_come": retries_to_come(delivery["attempts"], next_due),
                "max_attempts": MAX_ATTEMPTS,
            }
        )
    return out


def callbacks_version(fake: Fake) -> str:
    described = fake.outbox.describe()
    return fingerprint(
        [
            (d["task_id"], d["state"], d["attempts"], d["next_attempt_at"])
            for d in described["callbacks"]
        ],
        len(described["attempts"]),
    )


def scenarios(fake: Fake) -> list[dict[str, Any]]:
    return fake.scenarios.to_json()


def scenarios_version(fake: Fake) -> str:
    return fingerprint(fake.scenarios.to_json())


def journal_version(fake: Fake) -> int:
    """The newest journal entry the store holds (the server writes batches each second)."""
    return fake.store.max_journal_seq()


def journal(
    fake: Fake, key: str | None, task_id: str | None, limit: int = JOURNAL_SHOWN
) -> list[dict[str, Any]]:
    """The newest requests as the store holds them, newest first; no flush, so a reader
    never writes on the request path (at most a second behind)."""
    rows = fake.store.journal(key, task_id, limit, fake.config.journal_limit)
    return [decode(row) for row in reversed(rows)]


def keys(fake: Fake) -> Iterable[str]:
    return list(balances(fake))
