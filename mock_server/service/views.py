"""Read operations for the dashboard (``/_mock/ui``): named views of a fake's state.

The page needs a few things the control API does not answer directly: the newest tasks
with their charge, each delivery's retries still to come, and cheap versions that tell
whether a section changed since the last poll. They are read here from the store (the
truth every process shares) and the fake's named operations, so the handlers never
reach into ``Fake``'s fields and the control API stays as it is.

Versions come from the store's ``rev`` (it moves in every transaction that changes a
task, a key, a rule's set, the clock or a delivery), the rules' use counts and the
journal's head: a few one-row reads, run by the handler in a worker thread
(``store_versions``), so an unchanged poll costs almost nothing.
"""

from __future__ import annotations

import hashlib
from typing import Any, Final

from contracts import facts
from mock_server.delivery.attempt import MAX_ATTEMPTS
from mock_server.domain.billing import credits_text
from mock_server.domain.models import Task
from mock_server.service.fake import Fake

TASKS_SHOWN: Final = 50
JOURNAL_SHOWN: Final = 50
LEDGER_ENTRIES_SHOWN: Final = 8
CALLBACKS_SHOWN: Final = 30
_RUNNING: Final = ("pending", "processing")


def fingerprint(*parts: object) -> str:
    """A short version tag: equal parts, equal tag."""
    return hashlib.blake2b(repr(parts).encode(), digest_size=6).hexdigest()


# -- versions --------------------------------------------------------------------------


def store_versions(fake: Fake, key: str | None, task_id: str | None) -> dict[str, str]:
    """Each section's version, from store reads only (safe in a worker thread)."""
    changes = fake.replica.changes()
    epoch = changes[0]
    return {
        "tasks": fingerprint(changes),
        "ledger": fingerprint(changes),
        "callbacks": fingerprint(changes),
        "scenarios": fingerprint(epoch, fake.rules.versions()),
        "journal": fingerprint(epoch, fake.journal.head(), key, task_id),
    }


def moving_versions(fake: Fake, found: dict[str, str]) -> dict[str, str]:
    """On a real clock a running task moves without any write: its section changes
    each second while something is due."""
    if fake.clock.mode != "real" or fake.time.next_due() is None:
        return found
    return {**found, "tasks": fingerprint(found["tasks"], int(fake.now()))}


# -- sections ----------------------------------------------------------------------------


def clock(fake: Fake) -> dict[str, Any]:
    return {
        "mode": fake.clock.mode,
        "now": fake.now(),
        "can_advance": fake.clock.can_advance(),
        "time_scale": fake.config.time_scale,
        "step": fake.config.step,
    }


def failure_codes() -> list[tuple[str, str]]:
    """The real service's failed-task codes and their messages (``contracts.facts.TASK_ERRORS``)."""
    return list(facts.TASK_ERRORS.items())


def recent_tasks(fake: Fake, limit: int = TASKS_SHOWN) -> list[Task]:
    """The newest ``limit`` tasks, newest first."""
    fake.time.settle_due()
    return fake.tasks.newest(limit)


def task_row(fake: Fake, task: Task) -> dict[str, Any]:
    """One task as the dashboard shows it: what was asked, where it is, what it cost."""
    seen = fake.tasks.observe(task)
    body = fake.tasks.body(task) if seen.status == "completed" else {}
    request = task.request
    charged = fake.accounts.charge_of(task) if task.settled else None
    failed = seen.status == "failed"
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
        "error_code": task.plan.error_code if failed else None,
        "error_message": task.plan.error_message if failed else None,
        "reserved": credits_text(task.reserved),
        "charge": None if charged is None else credits_text(charged),
        "settled": task.settled,
        "results": body.get("results", []),
    }


def list_tasks(fake: Fake, limit: int = TASKS_SHOWN) -> tuple[list[dict[str, Any]], int]:
    """The newest tasks as rows, and how many tasks there are in all."""
    return [task_row(fake, t) for t in recent_tasks(fake, limit)], fake.tasks.count()


def unfinished(fake: Fake, limit: int = TASKS_SHOWN) -> list[str]:
    """Ids of the newest tasks that have not ended: what complete/fail/cancel can steer."""
    return [t.id for t in recent_tasks(fake, limit) if fake.tasks.observe(t).status in _RUNNING]


def balances(fake: Fake) -> dict[str, dict[str, str]]:
    """Every key's balance: configured keys first, then any other key with entries."""
    found = fake.accounts.balances()
    names = fake.accounts.names()
    return {
        k: found[k].to_json() if k in found else fake.accounts.balance(k).to_json() for k in names
    }


def keys(fake: Fake) -> list[str]:
    return fake.accounts.names()


def ledger(fake: Fake, per_key: int = LEDGER_ENTRIES_SHOWN) -> dict[str, Any]:
    """Balances and each key's newest entries (newest first)."""
    shown = balances(fake)
    recent = {
        key: [e.to_json() for e in reversed(fake.accounts.ledger_entries(key)[-per_key:])]
        for key in shown
    }
    return {"balances": shown, "entries": recent}


def retries_to_come(attempts_made: int, next_due: float | None) -> list[float]:
    """The earliest times of the attempts still to come: the next one when it is due,
    then 2 and 4 s after each failure (``facts.CALLBACK_RETRY_DELAYS``), up to ``MAX_ATTEMPTS``."""
    if next_due is None:
        return []
    times, at = [next_due], next_due
    for number in range(attempts_made + 2, MAX_ATTEMPTS + 1):
        at += facts.CALLBACK_RETRY_DELAYS[number - 2]
        times.append(at)
    return times


def callbacks(fake: Fake, limit: int = CALLBACKS_SHOWN) -> list[dict[str, Any]]:
    """The newest deliveries (by their task's creation), each with its attempts and the
    retries still to come."""
    described = fake.outbox.describe()
    by_task: dict[str, list[dict[str, Any]]] = {}
    for attempt in described["attempts"]:
        by_task.setdefault(attempt["task_id"], []).append(attempt)
    deliveries = sorted(described["callbacks"], key=lambda d: d["task_id"], reverse=True)
    out = []
    for delivery in deliveries[:limit]:
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


def scenarios(fake: Fake) -> list[dict[str, Any]]:
    return fake.rules.to_json()


def journal(
    fake: Fake, key: str | None, task_id: str | None, limit: int = JOURNAL_SHOWN
) -> list[dict[str, Any]]:
    """The newest requests as the store holds them, newest first; no flush, so a reader
    never writes on the request path (the server writes a batch each second)."""
    return list(reversed(fake.journal.written(key, task_id, limit)))
