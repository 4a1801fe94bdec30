"""The neutral record of one verification run, which every report format is written from.

A verifier prints its report line by line; each line that judges something (a check of
a provider, a world a client met, a property of a client) is kept as an ``Entry`` under
the section it was printed in. ``RunRecord`` adds what the run was (tool, version,
options, exit status) and anything tool-specific (verify-client's worlds), so the JUnit
and JSON writers never look inside a verifier: the printed report, the XML and the JSON
hold the same entries, one for one.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

STATUSES = ("passed", "failed", "skipped")


class Violation(Protocol):
    """What a report needs of a ``contracts.checks.ContractViolation``."""

    check: str
    message: str
    evidence: dict[str, Any]
    source: str


class Printed(Protocol):
    """What a report needs of one printed line (``contracts.provider.report.Line``)."""

    section: str
    name: str
    status: str
    detail: str
    violations: list[Any]
    seconds: float
    counted: bool


@dataclass(frozen=True)
class Entry:
    """One judged line: its section, name and status, what it showed, and why it failed."""

    section: str
    name: str
    status: str  # passed | failed | skipped
    detail: str = ""
    violations: tuple[Mapping[str, Any], ...] = ()
    seconds: float = 0.0
    counted: bool = True  # in the totals the printed report ends with

    @property
    def message(self) -> str:
        """The checks broken and their SOURCES.md keys, as one line."""
        return "; ".join(
            f"{v['check']} (contracts/SOURCES.md {v['source'] or 'no source'}): {v['message']}"
            for v in self.violations
        )

    @property
    def evidence(self) -> str:
        """Every violation as the printed report shows it, evidence included."""
        return "\n\n".join(str(v["text"]) for v in self.violations)


@dataclass
class RunRecord:
    """A whole run: what was verified and how, every entry, and the exit status."""

    tool: str
    version: str
    options: Mapping[str, Any]
    entries: list[Entry]
    exit_status: int
    seconds: float = 0.0
    extra: dict[str, Any] = field(default_factory=dict)

    def sections(self) -> list[tuple[str, list[Entry]]]:
        """The entries grouped by section, in the order they were printed."""
        grouped: dict[str, list[Entry]] = {}
        for entry in self.entries:
            grouped.setdefault(entry.section, []).append(entry)
        return list(grouped.items())

    def totals(self, entries: Iterable[Entry] | None = None) -> dict[str, int]:
        """``{"total", "passed", "failed", "skipped"}`` over ``entries`` (default: all)."""
        chosen = list(self.entries if entries is None else entries)
        counts = {status: sum(e.status == status for e in chosen) for status in STATUSES}
        return {"total": len(chosen), **counts}

    def printed_totals(self) -> dict[str, int]:
        """The totals the printed report ends with (verify-client counts properties only)."""
        chosen = [e for e in self.entries if e.counted]
        counts = {status: sum(e.status == status for e in chosen) for status in STATUSES}
        return {"total": len(chosen), **counts}


def violation_json(violation: Violation) -> dict[str, Any]:
    """A violation as plain data: its check, message, evidence, source and printed text."""
    return {
        "check": violation.check,
        "message": violation.message,
        "evidence": dict(violation.evidence),
        "source": violation.source,
        "text": str(violation),
    }


def entry(line: Printed) -> Entry:
    """The record of one printed line."""
    return Entry(
        line.section,
        line.name,
        line.status,
        line.detail,
        tuple(violation_json(v) for v in line.violations),
        line.seconds,
        line.counted,
    )
