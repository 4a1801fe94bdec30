"""The request journal: every API request, its answer and contract notes.

Recording is an append to a list on the request path; the store write happens in
batches off it (``flush``, run once a second by the server and before every read), and
bodies stay raw bytes until someone reads the journal, so a poll never waits on SQLite
or a JSON decoder (docs/ARCHITECTURE.md, "Poll"). The store keeps the newest ``limit``
entries.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Any

import orjson

MAX_BODY_CHARS = 4096
TASK_PATH = "/v1/tasks/"
# A server whose journal is never flushed (no lifespan, never read) keeps this many.
MAX_PENDING = 100_000

Row = tuple[
    int,
    float,
    str | None,
    str | None,
    str,
    str,
    int,
    float,
    bytes | None,
    bytes | None,
    list[str] | None,
    float | None,
    str | None,
]


class Entry:
    """One request as recorded on the hot path: plain attributes, no encoding."""

    __slots__ = (
        "at",
        "key",
        "latency_ms",
        "method",
        "notes",
        "path",
        "poll_gap",
        "recorded",
        "replay",
        "request",
        "response",
        "retry_after",
        "seq",
        "status",
        "task_id",
        "wall_at",
    )

    def __init__(
        self, at: float, method: str, path: str, key: str | None, wall_at: float | None = None
    ) -> None:
        self.at, self.method, self.path, self.key = at, method, path, key
        # Wall-clock seconds the request arrived: client verification measures real
        # pauses (Retry-After, poll intervals) with it, whatever the server's clock does.
        self.wall_at = wall_at
        self.retry_after: str | None = None  # the Retry-After header the answer carried
        self.status = 0
        self.seq = 0  # numbered by the store when the batch is written
        self.recorded = False
        self.latency_ms = 0.0
        self.task_id: str | None = None
        self.request: bytes | None = None
        self.response: bytes | None = None
        self.notes: list[str] | None = None
        self.replay: Any = None  # the request body, re-readable after a scenario peeked
        # (seconds since the last poll, the minimum): a note, worded only when written
        self.poll_gap: tuple[float, float] | None = None

    def note(self, text: str) -> None:
        if self.notes is None:
            self.notes = []
        self.notes.append(text)

    def row(self) -> Row:
        task_id = self.task_id
        if task_id is None and self.path.startswith(TASK_PATH):
            task_id = self.path[len(TASK_PATH) :]
        notes = self.notes
        if self.poll_gap is not None:
            gap, minimum = self.poll_gap
            notes = [*(notes or ()), f"polled again after {gap:.3f} s (under {minimum:g} s)"]
        return (
            self.seq,
            self.at,
            self.key,
            task_id,
            self.method,
            self.path,
            self.status,
            self.latency_ms,
            self.request,
            self.response,
            notes,
            self.wall_at,
            self.retry_after,
        )


FIELDS = (
    "seq",
    "at",
    "key",
    "task_id",
    "method",
    "path",
    "status",
    "latency_ms",
    "request",
    "response",
    "notes",
    "wall_at",
    "retry_after",
)


def matches(stored: Sequence[Any], key: str | None, task_id: str | None) -> bool:
    """Is a stored row of this key and this task (None: of any)?"""
    return (key is None or stored[2] == key) and (task_id is None or stored[3] == task_id)


def decode(stored: Sequence[Any]) -> dict[str, Any]:
    """A stored journal row as the control API shows it, with notes on error answers."""
    # Rows stored before wall_at and retry_after existed are shorter: pad them.
    row = dict(zip(FIELDS, [*stored, *[None] * (len(FIELDS) - len(stored))], strict=True))
    response = _body(row["response"])
    notes: list[str] = list(row["notes"] or [])
    if row["status"] >= 400 and isinstance(response, dict):
        error = response.get("error")
        if isinstance(error, dict):
            param = f" ({error['param']})" if error.get("param") else ""
            notes.append(
                f"answered {row['status']} {error.get('type')}{param}: {error.get('message')}"
            )
    return {
        "seq": row["seq"],
        "at": row["at"],
        "kind": "request",
        "method": row["method"],
        "path": row["path"],
        "status": row["status"],
        "key": row["key"],
        "task_id": row["task_id"],
        "latency_ms": row["latency_ms"],
        "request": _body(row["request"]),
        "response": response,
        "notes": notes,
        "wall_at": row["wall_at"],
        "retry_after": row["retry_after"],
    }


def _body(raw: str | bytes | None) -> Any:
    """A body as JSON when it is JSON, else as (truncated) text."""
    if not raw:
        return None
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:
        text = raw[:MAX_BODY_CHARS]
        text = text.decode("utf-8", "replace") if isinstance(text, bytes) else text
        return text + ("…" if len(raw) > MAX_BODY_CHARS else "")


Sink = Callable[[Sequence[Row]], None]


class Journal:
    """Entries wait in ``pending`` until ``flush`` hands them to ``sink`` (the store)."""

    def __init__(self, sink: Sink) -> None:
        self.sink = sink
        self.pending: list[Entry] = []
        # One flush at a time: a reader's flush waits for a background one to land.
        self._flushing = threading.Lock()

    def record(self, entry: Entry) -> None:
        entry.recorded = True
        self.pending.append(entry)
        if len(self.pending) > MAX_PENDING:
            del self.pending[: MAX_PENDING // 2]

    def flush(self) -> None:
        """Write what is pending; safe from a worker thread while the loop records."""
        with self._flushing:
            if self.pending:
                batch, self.pending = self.pending, []
                try:
                    self.sink([entry.row() for entry in batch])
                except BaseException:  # the store failed: the batch waits for the next flush
                    self.pending[:0] = batch
                    raise
