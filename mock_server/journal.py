"""The request journal: every API request, its answer and contract notes.

Recording is an append to a list on the request path; encoding and the store write
happen in batches off it (``flush``), so a poll never waits on SQLite (DESIGN.md
"Speed"). The journal is bounded: the store keeps the newest ``limit`` entries.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson

MAX_BODY_CHARS = 4096


@dataclass(slots=True)
class Entry:
    at: float
    method: str
    path: str
    status: int
    key: str | None = None
    task_id: str | None = None
    request: bytes | None = None
    response: bytes | None = None
    notes: list[str] = field(default_factory=list)
    seq: int = 0

    def to_json(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "at": self.at,
            "method": self.method,
            "path": self.path,
            "status": self.status,
            "key": self.key,
            "task_id": self.task_id,
            "request": _body(self.request),
            "response": _body(self.response),
            "notes": self.notes,
        }


def _body(raw: bytes | None) -> Any:
    """A body as JSON when it is JSON, else as (truncated) text."""
    if not raw:
        return None
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:
        text = raw[:MAX_BODY_CHARS].decode("utf-8", "replace")
        return text + ("…" if len(raw) > MAX_BODY_CHARS else "")


Sink = Callable[[Sequence[Entry]], None]


@dataclass
class Journal:
    """Entries wait in ``pending`` until ``flush`` hands them to ``sink`` (the store)."""

    sink: Sink
    next_seq: int = 1
    pending: list[Entry] = field(default_factory=list)
    flush_at: int = 512

    def record(self, entry: Entry) -> Entry:
        entry.seq = self.next_seq
        self.next_seq += 1
        self.pending.append(entry)
        if len(self.pending) >= self.flush_at:
            self.flush()
        return entry

    def flush(self) -> None:
        if self.pending:
            batch, self.pending = self.pending, []
            self.sink(batch)
