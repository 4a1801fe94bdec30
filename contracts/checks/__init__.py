"""The contract's invariants, each a named check that raises a typed ``ContractViolation``.

In schemathesis' style: a check is a plain function over one *subject* (something a
verifier observed), registered with ``@check(Subject, source=...)``; ``REGISTRY`` holds
them all, in file order, and ``violations(subject)`` runs every check that applies. The
subjects are plain data, so the same checks judge the fake's own tests, the pytest
plugin, the provider verifier (fake or real endpoint) and client verification:

* ``TaskHistory``: the task objects one client saw for one task, oldest first;
* ``ErrorAnswer``: one error answer of the generation API, with what was expected;
* ``FileAnswer``: one answer of the file service;
* ``Settlement``: tasks that ended, and the credits they moved.
* ``ClientRun``: one run of a client under test (``checks/client.py``, its pace in
  ``checks/pacing.py``).

A check that cannot judge its subject (say, charges nobody could observe) raises
``NotApplicable``; the verifier reports it as skipped, never as passed. Shapes come from
``contracts/schemas.py``, prices from ``contracts/pricing.py``; sources are SOURCES.md keys.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from types import ModuleType
from typing import Final

from contracts.checks import answers, billing, client, fields, pacing, tasks
from contracts.checks.core import (
    MARK,
    Check,
    ContractViolation,
    ErrorAnswer,
    FileAnswer,
    NotApplicable,
    SettledTask,
    Settlement,
    TaskHistory,
    check,
    fail,
)

__all__ = [
    "REGISTRY",
    "Check",
    "ContractViolation",
    "ErrorAnswer",
    "FileAnswer",
    "NotApplicable",
    "Outcome",
    "SettledTask",
    "Settlement",
    "TaskHistory",
    "assert_keeps_contract",
    "check",
    "collect",
    "fail",
    "run",
    "violations",
]


def collect(*modules: ModuleType) -> tuple[Check, ...]:
    """The functions marked ``@check`` in ``modules``, in file order."""
    found = []
    for module in modules:
        for name, fn in vars(module).items():
            mark = getattr(fn, MARK, None)
            if mark is not None:
                found.append(Check(name, mark[0], fn, mark[1], (fn.__doc__ or "").strip()))
    return tuple(found)


#: Every check of the contract (built once at import; never mutated). Extend it by
#: building your own tuple: ``(*REGISTRY, *collect(my_module))``.
REGISTRY: Final = collect(tasks, fields, answers, billing, client, pacing)


@dataclass(frozen=True)
class Outcome:
    """What one check made of one subject: passed, failed (with the violation) or skipped."""

    check: Check
    status: str
    violation: ContractViolation | None = None
    reason: str = ""


def run(subject: object, registry: Sequence[Check] = REGISTRY) -> list[Outcome]:
    """Every check of ``registry`` that judges ``subject``'s type, run on it."""
    outcomes = []
    for item in registry:
        if not isinstance(subject, item.subject):
            continue
        try:
            item.run(subject)
        except NotApplicable as skip:
            outcomes.append(Outcome(item, "skipped", reason=str(skip)))
        except ContractViolation as found:
            named = item.violation(found.message, **found.evidence)
            outcomes.append(Outcome(item, "failed", named))
        else:
            outcomes.append(Outcome(item, "passed"))
    return outcomes


def violations(subject: object, registry: Sequence[Check] = REGISTRY) -> list[ContractViolation]:
    """The violations ``subject`` shows (empty when it keeps the contract)."""
    return [o.violation for o in run(subject, registry) if o.violation is not None]


def assert_keeps_contract(subject: object) -> None:
    """Raise the first ``ContractViolation`` of ``subject``, with the others' count noted."""
    found = violations(subject)
    if found:
        first = found[0]
        if len(found) > 1:
            first.evidence["other_violations"] = [v.check for v in found[1:]]
        raise first
