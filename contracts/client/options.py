"""What a client verification is asked to do (``Options``) and what it found
(``Example``, ``Result``): plain records shared by the verifier and its report."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from contracts.checks import ContractViolation, Outcome
from contracts.checks.client import ClientRun
from contracts.client.runner import Attempt
from contracts.client.world import Case


@dataclass(frozen=True)
class Options:
    """How hard to look, and the limits that keep a broken client from stalling a run."""

    examples: int = 20
    seed: int = 0
    timeout: float = 60.0  # wall seconds one run of the client may take
    max_requests: int = 500  # API requests one run may make before it counts as runaway
    step: float = 10.0  # server seconds a request moves the stepped clock
    max_retry_after: int = 1  # real seconds a polite client waits per transient
    shrink_seconds: float = 15.0  # wall seconds shrinking a failure may take
    # A safety net, not a bound: the search tries ``examples`` worlds, in an order fixed by
    # the seed, so a verdict never depends on the machine's speed; only a client far
    # slower than any honest one meets this, and the report says so.
    search_seconds: float = 300.0
    min_poll_interval: float = 0.01  # wall seconds between polls under which polling is tight
    tight_polls: int = 3  # pauses under that floor (or their median) that make tight polling
    max_consecutive_failures: int = 3  # failures in a row a world puts on one request
    replay_file: Path | None = Path("wanmock-client-failure.json")


@dataclass
class Example:
    """One run of the client and what the checks made of it."""

    case: Case
    run: ClientRun
    outcomes: list[Outcome]
    attempt: Attempt

    @property
    def violations(self) -> list[ContractViolation]:
        return [o.violation for o in self.outcomes if o.violation is not None]


@dataclass
class Result:
    """What ``verify_client`` found: the exit status, and the smallest failure if any."""

    status: int
    examples: int = 0
    shrinks: int = 0
    failure: Example | None = None
    seen: dict[str, list[Outcome]] = field(default_factory=dict)
    poll_intervals: list[float] = field(default_factory=list)  # wall seconds, every example
    cut_short: bool = False  # the search's safety net (--search-seconds) ended it early
