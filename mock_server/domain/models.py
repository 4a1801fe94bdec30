"""The domain's records: a validated request, a task's plan, a task, a ledger entry.

Plain frozen dataclasses with no behaviour beyond conversion to and from the JSON the
store keeps, so every other module can be a set of pure functions over them.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any, Literal

Status = Literal["pending", "processing", "completed", "failed"]
Outcome = Literal["completed", "failed"]
TERMINAL: frozenset[str] = frozenset({"completed", "failed"})
STATUS_ORDER: dict[str, int] = {"pending": 0, "processing": 1, "completed": 2, "failed": 2}


@dataclass(frozen=True, slots=True)
class CreateRequest:
    """A create request that passed every documented rule, defaults filled in."""

    model: str
    prompt: str
    video_urls: tuple[str, ...]
    aspect_ratio: str
    quality: str
    duration: int
    model_params: dict[str, Any] = field(default_factory=dict)
    callback_url: str | None = None
    generate_audio: bool = True

    def to_json(self) -> dict[str, Any]:
        # Field by field rather than ``asdict`` (a deep copy): every create pays for it.
        data = {name: getattr(self, name) for name in self.__slots__}
        data["video_urls"] = list(self.video_urls)
        data["model_params"] = dict(self.model_params)
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> CreateRequest:
        return cls(**{**data, "video_urls": tuple(data["video_urls"])})


@dataclass(frozen=True, slots=True)
class Plan:
    """Everything needed to compute a task's state at any instant.

    ``created`` <= ``start`` <= ``finish``; the task is pending before ``start``,
    processing until ``finish`` with progress following ``curve`` (an ease-out exponent:
    1 is linear, 2 rises fast then slows), then ``outcome``. A failed task keeps
    showing ``fail_progress``. ``forced`` records that the
    control API or a scenario decided the outcome, for the history. A completed task
    shows ``results`` result links (the documented field is an array; one by default).
    ``points`` (a scenario's ``progress_points``) replaces the curve with steps;
    ``estimate`` (a scenario's ``estimated_time``) replaces the model's estimate.
    """

    created: float
    start: float
    finish: float
    outcome: Outcome = "completed"
    error_code: str | None = None
    error_message: str | None = None
    curve: float = 2.0
    forced: str | None = None
    fail_progress: int = 0
    results: int = 1
    points: tuple[tuple[float, int], ...] = ()
    estimate: int | None = None

    def to_json(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.__slots__}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Plan:
        points = tuple((float(f), int(p)) for f, p in data.get("points", ()))
        return cls(**{**data, "points": points})

    def ended_at(
        self,
        at: float,
        outcome: Outcome,
        code: str | None,
        message: str | None,
        forced: str,
        progress: int,
    ) -> Plan:
        """This plan cut short at ``at``: status jumps to ``outcome`` from there on.

        ``progress`` is what a poll showed at ``at``; a failed task keeps showing it.
        """
        return replace(
            self,
            start=min(self.start, at),
            finish=at,
            outcome=outcome,
            error_code=code,
            error_message=message,
            forced=forced,
            fail_progress=progress,
        )


@dataclass(slots=True)
class Task:
    """A stored task: who owns it, what was asked, its plan and its money."""

    id: str
    key: str
    request: CreateRequest
    plan: Plan
    reserved: Decimal
    input_seconds: Decimal
    reference_seconds: tuple[Decimal, ...]
    estimated_time: int
    user_group: str = "default"
    settled: bool = False
    rev: int = 0  # the store's version of this task, for conditional changes

    @property
    def created(self) -> int:
        return int(self.plan.created)


LedgerKind = Literal["grant", "reserve", "release", "charge"]


@dataclass(frozen=True, slots=True)
class LedgerEntry:
    """One movement of credits. ``grant`` may be negative (a balance set lower)."""

    seq: int
    at: float
    key: str
    kind: LedgerKind
    amount: Decimal
    task_id: str | None = None
    note: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "at": self.at,
            "key": self.key,
            "kind": self.kind,
            "amount": format(self.amount.normalize(), "f"),
            "task_id": self.task_id,
            "note": self.note,
        }


@dataclass(frozen=True, slots=True)
class ReferenceInfo:
    """What the fake knows of one reference video when a task is created.

    ``seconds`` feeds the input billing caps (None: unknown, the configured default is
    billed); ``problem`` is the failed-task ``(code, message)`` a reference that breaks
    the documented rules earns (SOURCES.md "Media"); ``source`` says where the facts came
    from: ``upload``, ``manifest``, ``fetched`` or ``default``.
    """

    seconds: Decimal | None = None
    problem: tuple[str, str] | None = None
    source: str = "default"

    @classmethod
    def of(cls, value: ReferenceInfo | Decimal | None) -> ReferenceInfo:
        """Accept a bare duration too, as older ``reference_probe`` hooks return."""
        if isinstance(value, ReferenceInfo):
            return value
        return cls(seconds=value, source="default" if value is None else "probe")


@dataclass(frozen=True, slots=True)
class Delivery:
    """A task's callback in the outbox: where it goes, what it carries, how far it got.

    ``state`` is ``pending``, ``delivered`` or ``exhausted``; ``claimed_by`` and
    ``lease_until`` name the process making the next attempt and until when
    (docs/ARCHITECTURE.md "Callbacks").
    """

    task_id: str
    url: str
    body: bytes
    attempts: int = 0
    next_due: float | None = None
    state: str = "pending"
    claimed_by: str | None = None
    lease_until: float | None = None
    position: int = 0  # its place in the outbox's order (keyset paging)


@dataclass(frozen=True, slots=True)
class FileRecord:
    """A file uploaded to the file service: who owns it, where it lives, until when."""

    file_id: str
    key: str
    upload_path: str
    file_name: str
    uploaded: float
    expires: float
    original_name: str
    file_size: int
    mime_type: str
    probe: dict[str, Any] | None = None
