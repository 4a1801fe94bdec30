"""``GET /_mock/events``, paged: one timeline of requests, task state changes, ledger
entries and callback attempts, on the server clock.

Each event has a sort key (at, kind, number, text); a page is the ``limit`` smallest keys
after the cursor. Each source is asked only for its own ``limit + 1`` smallest keys after
the cursor (SQL keyset queries, the journal read a few batches at a time, tasks read in
chunks and no further than a step could still make the page), so a page never holds more
than a few times ``limit`` events however long the history (docs/control-api.md "Control API").
"""

from __future__ import annotations

import heapq
from typing import Any

from mock_server.domain import lifecycle
from mock_server.runtime.journal import decode
from mock_server.service.fake import Fake
from mock_server.service.paging import decode_cursor, encode_cursor

# Same instant: the request comes first, then what it caused.
KIND_ORDER = {"request": 0, "task": 1, "ledger": 2, "callback": 3}
TASK_CHUNK = 500
Key = tuple[float, int, int, str]
START: Key = (float("-inf"), -1, -1, "")


def event_page(
    fake: Fake,
    key: str | None = None,
    task_id: str | None = None,
    limit: int = 100,
    cursor: str | None = None,
) -> tuple[list[dict[str, Any]], str | None]:
    """Up to ``limit`` events in time order after ``cursor``, and the next page's cursor."""
    fake.time.settle_due()
    fake.journal.flush()
    found = decode_cursor(cursor, "events", (float, int, int, str))
    after: Key = (float(found[0]), found[1], found[2], found[3]) if found else START
    candidates: list[tuple[Key, dict[str, Any]]] = []
    candidates += _requests(fake, key, task_id, after, limit + 1)
    candidates += _task_steps(fake, key, task_id, after, limit + 1)
    candidates += _ledger(fake, key, task_id, after, limit + 1)
    candidates += _callbacks(fake, key, task_id, after, limit + 1)
    candidates.sort(key=lambda c: c[0])
    page = candidates[:limit]
    following = page[-1][0] if len(candidates) > limit else None
    return [event for _, event in page], encode_cursor("events", following)


def _requests(
    fake: Fake, key: str | None, task_id: str | None, after: Key, want: int
) -> list[tuple[Key, dict[str, Any]]]:
    rows = ((_request_key(row), row) for row in fake.journal.rows(key, task_id))
    best = heapq.nsmallest(want, (r for r in rows if r[0] > after), key=lambda r: r[0])
    return [(at_key, decode(row)) for at_key, row in best]


def _request_key(row: list[Any]) -> Key:
    return (row[1], 0, row[0], "")


def _within(after: Key, order: int) -> tuple[float, int, str]:
    """The (at, number, text) a source of kind ``order`` must pass to follow ``after``."""
    if after[1] < order:
        return after[0], -1, ""
    if after[1] == order:
        return after[0], after[2], after[3]
    return after[0], 2**62, ""


def _task_steps(
    fake: Fake, key: str | None, task_id: str | None, after: Key, want: int
) -> list[tuple[Key, dict[str, Any]]]:
    now = fake.now()
    best: list[tuple[Key, dict[str, Any]]] = []  # the ``want`` smallest so far
    position = None
    while True:
        if task_id is not None:
            one = fake.tasks.stored(task_id)
            tasks = [one] if one is not None and key in (None, one.key) else []
            following = None
        else:
            tasks, following = fake.tasks.page(key, TASK_CHUNK, position, after[0])
        for task in tasks:
            if len(best) >= want and task.plan.created > best[-1][0][0]:
                return best  # every later task's steps come after the page
            for number, step in enumerate(lifecycle.history(task.plan, now)):
                step_key: Key = (float(step["at"]), 1, number, task.id)  # type: ignore[arg-type]
                if step_key <= after:
                    continue
                event = {"at": step["at"], "kind": "task", "task_id": task.id, "key": task.key}
                event["status"] = step["status"]
                if step["status"] == "failed":
                    event["error_code"] = task.plan.error_code
                best.append((step_key, event))
            best.sort(key=lambda c: c[0])
            del best[want:]
        if following is None:
            return best
        position = following


def _ledger(
    fake: Fake, key: str | None, task_id: str | None, after: Key, want: int
) -> list[tuple[Key, dict[str, Any]]]:
    at, number, _ = _within(after, 2)
    return [
        ((e.at, 2, e.seq, ""), {**e.to_json(), "kind": "ledger", "ledger_kind": e.kind})
        for e in fake.accounts.ledger_after(key, task_id, at, number, want)
    ]


def _callbacks(
    fake: Fake, key: str | None, task_id: str | None, after: Key, want: int
) -> list[tuple[Key, dict[str, Any]]]:
    at, number, text = _within(after, 3)
    return [
        (
            (a["attempted_at"], 3, a["number"], a["task_id"]),
            {**a, "kind": "callback", "at": a["attempted_at"]},
        )
        for a in fake.outbox.attempts_after(key, task_id, (at, number, text), want)
    ]
