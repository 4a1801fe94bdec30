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
TASK_PATH = "/v1/tasks/"
CREATE_PATH = "/v1/videos/generations"


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
    latency_ms: float = 0.0

    def to_json(self) -> dict[str, Any]:
        response = _body(self.response)
        task_id = self.task_id
        if task_id is None and self.path.startswith(TASK_PATH):
            task_id = self.path[len(TASK_PATH) :]
        if task_id is None and self.path == CREATE_PATH and isinstance(response, dict):
            task_id = response.get("id")
        notes = list(self.notes)
        if self.status >= 400 and isinstance(response, dict):
            error = response.get("error")
            if isinstance(error, dict):
                param = f" ({error['param']})" if error.get("param") else ""
                notes.append(
                    f"answered {self.status} {error.get('type')}{param}: {error.get('message')}"
                )
        return {
            "seq": self.seq,
            "at": self.at,
            "kind": "request",
            "method": self.method,
            "path": self.path,
            "status": self.status,
            "key": self.key,
            "task_id": task_id,
            "latency_ms": self.latency_ms,
            "request": _body(self.request),
            "response": response,
            "notes": notes,
        }

    def row(self) -> tuple[int, float, str | None, str | None, bytes]:
        data = self.to_json()
        return (self.seq, self.at, self.key, data["task_id"], orjson.dumps(data))


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
