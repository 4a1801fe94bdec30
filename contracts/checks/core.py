"""The vocabulary of checks: the violation, the subjects checks judge, and ``@check``.

Subjects are plain data a verifier observed, so the same checks judge the fake's own
tests, the pytest plugin, the provider verifier (fake or real endpoint) and client
verification alike.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Final, TypeVar

S = TypeVar("S")


class ContractViolation(AssertionError):
    """A broken invariant: which check, what is wrong, the evidence, and the source."""

    def __init__(
        self, check: str, message: str, evidence: Mapping[str, Any] | None = None, source: str = ""
    ) -> None:
        super().__init__(message)
        self.check = check
        self.message = message
        self.evidence = dict(evidence or {})
        self.source = source

    def __str__(self) -> str:
        lines = [f"[{self.check}] {self.message}"]
        lines += [f"  {name}: {_show(value)}" for name, value in self.evidence.items()]
        if self.source:
            lines.append(f"  source: contracts/SOURCES.md {self.source}")
        return "\n".join(lines)


def _show(value: Any) -> str:
    """Evidence as a reader wants it: credits as plain numbers, long values cut."""
    text = str(value) if isinstance(value, Decimal) else repr(value)
    return text if len(text) <= 400 else text[:400] + "…"


class NotApplicable(Exception):
    """The subject holds nothing this check can judge; the message says what is missing."""


@dataclass(frozen=True)
class TaskHistory:
    """Task objects observed for one task (create answer first, then polls)."""

    observations: Sequence[Mapping[str, Any]]
    request: Mapping[str, Any] | None = None


@dataclass(frozen=True)
class ErrorAnswer:
    """An error answer of the generation API and, when known, what it should have been."""

    status: int
    body: Any
    content_type: str = "application/json"
    expect_status: int | None = None
    expect_param: str | None = None
    label: str = ""
    text: str = ""  # the raw body, for evidence when it is not JSON


@dataclass(frozen=True)
class FileAnswer:
    """An answer of the file service; ``schema`` names the success shape expected."""

    status: int
    body: Any
    content_type: str = "application/json"
    schema: str = "FileUploaded"
    expect_success: bool | None = None
    expect_code: int | None = None
    expect_status: int | None = None


@dataclass(frozen=True)
class SettledTask:
    """One ended task: what was asked, the references' real lengths, what it showed."""

    request: Mapping[str, Any]
    status: str
    reference_seconds: Sequence[Decimal] | None = None
    reserved: Decimal | None = None
    charged: Decimal | None = None  # None: this task's own charge could not be seen
    task_id: str = ""


@dataclass(frozen=True)
class Settlement:
    """Tasks that ended together and, when observable, the credits the key lost meanwhile."""

    tasks: Sequence[SettledTask]
    balance_delta: Decimal | None = None


@dataclass(frozen=True)
class Check:
    """A registered invariant: its name, the subject type it judges, and its source."""

    name: str
    subject: type
    run: Callable[[Any], None]
    source: str
    doc: str = field(default="", compare=False)

    def violation(self, message: str, **evidence: Any) -> ContractViolation:
        """A ``ContractViolation`` of this check."""
        return ContractViolation(self.name, message, evidence, self.source)


MARK: Final = "__contract_check__"


def check(subject: type, *, source: str) -> Callable[[Callable[[S], None]], Callable[[S], None]]:
    """Register the decorated function as a check of ``subject`` (collected into REGISTRY)."""

    def mark(fn: Callable[[S], None]) -> Callable[[S], None]:
        setattr(fn, MARK, (subject, source))
        return fn

    return mark


def fail(message: str, **evidence: Any) -> ContractViolation:
    """Build the violation a check raises; the registry fills in its name and source."""
    return ContractViolation("", message, evidence)
