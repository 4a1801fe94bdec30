"""A server world: one way the real API may behave towards one client, as plain data.

``contracts.strategies.server_worlds()`` draws these; ``ServerWorld.rules()`` turns one
into the fake's scenario rules (docs/scenarios.md "Scenarios"), so the world a client failed in can
be replayed with ``wanmock serve --scenarios FILE``. Everything a world varies is
something the contract allows (SOURCES.md "Client verification"): lifecycle timings, a
progress curve, the outcome and its real failure code, transient 429/502/503 answers
with ``Retry-After``, unknown fields in answers, and callback deliveries that fail (so
they come again) or come late.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Final

CREATE_MATCH: Final = {"method": "POST", "path": "/v1/videos/generations"}
POLL_MATCH: Final = {"method": "GET", "path__startswith": "/v1/tasks/"}
# What a late callback's receiver waits before it answers (real seconds, under the
# verifier's callback timeout, so the attempt succeeds late rather than timing out).
LATE_CALLBACK_SECONDS: Final = 0.3


@dataclass(frozen=True)
class Transient:
    """``times`` answers of HTTP ``status``, with ``Retry-After`` when set: 429, 502 or 503
    (a request refused), or on a create 500 or 504 (its outcome unknown)."""

    status: int
    retry_after: int | None = None
    times: int = 1

    def rule(self, match: Mapping[str, str], where: str) -> dict[str, Any]:
        headers = {} if self.retry_after is None else {"Retry-After": str(self.retry_after)}
        return {
            "name": f"transient {self.status} on {where}",
            "match": dict(match),
            "effect": {"http_status": self.status, "headers": headers},
            "times": self.times,
        }

    def describe(self) -> str:
        after = "" if self.retry_after is None else f" (Retry-After: {self.retry_after})"
        return f"{self.status}{after} ×{self.times}"


# Real seconds a hung answer is held back before its connection closes: longer than a
# hasty client's timeout, short enough to keep a verification quick.
HANG_SECONDS: Final = 2.0
FAULT_EFFECTS: Final[dict[str, dict[str, Any]]] = {
    "drop": {"drop_connection": True},
    "hang": {"hang_seconds": HANG_SECONDS},
    "reset": {"reset_connection": True},
    "truncate": {"truncate_body": True},
}
FAULT_NAMES: Final = {
    "drop": "connection dropped",
    "hang": f"no answer for {HANG_SECONDS:g} s",
    "reset": "connection reset mid-body",
    "truncate": "body truncated",
}


@dataclass(frozen=True)
class Fault:
    """A transport fault (``drop``, ``hang``, ``reset``, ``truncate``) on the create or on
    a poll (``where``), ``times`` times, as a fault-injecting proxy makes them."""

    kind: str
    where: str = "create"
    times: int = 1

    def rule(self) -> dict[str, Any]:
        return {
            "name": f"transport fault on {self.where}: {FAULT_NAMES[self.kind]}",
            "match": dict(CREATE_MATCH if self.where == "create" else POLL_MATCH),
            "effect": dict(FAULT_EFFECTS[self.kind]),
            "times": self.times,
        }

    def describe(self) -> str:
        return f"{FAULT_NAMES[self.kind]} on {self.where}" + (
            f" ×{self.times}" if self.times > 1 else ""
        )


@dataclass(frozen=True)
class ServerWorld:
    """How the fake behaves for one example of client verification."""

    queue_seconds: int = 0
    processing_seconds: int = 1
    progress_curve: str = "linear"
    error_code: str | None = None  # None: the task completes
    results_count: int = 1  # result links a completed task shows
    progress_points: tuple[tuple[float, int], ...] = ()  # steps instead of the curve
    estimated_time: int | None = None  # what task_info.estimated_time starts at
    create_errors: tuple[Transient, ...] = ()
    poll_errors: tuple[Transient, ...] = ()
    extra_fields: tuple[tuple[str, Any], ...] = ()
    callback_failures: int = 0
    late_callback: bool = False
    faults: tuple[Fault, ...] = ()  # transport faults, after any transient answers

    @property
    def outcome(self) -> str:
        return "completed" if self.error_code is None else "failed"

    @property
    def fault_count(self) -> int:
        return sum(f.times for f in self.faults)

    def failures_in_a_row(self, where: str) -> int:
        """The failures this world puts in a row on one request (``create`` or ``poll``):
        its error answers and its transport faults there together, since the rules apply
        to the first requests of their kind one after another."""
        statuses = self.create_errors if where == "create" else self.poll_errors
        faults = [f for f in self.faults if f.where == where]
        return sum(t.times for t in statuses) + sum(f.times for f in faults)

    def within(self, budget: int) -> ServerWorld:
        """This world with no more than ``budget`` failures in a row on one request:
        error answers first, then transport faults, the later ones dropped
        (``--max-consecutive-failures``, SOURCES.md "Client verification")."""
        left = {"create": budget, "poll": budget}
        kept: dict[str, list[Transient]] = {"create": [], "poll": []}
        for where, runs in (("create", self.create_errors), ("poll", self.poll_errors)):
            for run in runs:
                times = min(run.times, left[where])
                if times:
                    kept[where].append(replace(run, times=times))
                    left[where] -= times
        faults = []
        for fault in self.faults:
            if left[fault.where] >= fault.times:
                faults.append(fault)
                left[fault.where] -= fault.times
        return replace(
            self,
            create_errors=tuple(kept["create"]),
            poll_errors=tuple(kept["poll"]),
            faults=tuple(faults),
        )

    @property
    def fields(self) -> dict[str, Any]:
        return dict(self.extra_fields)

    def rules(self) -> list[dict[str, Any]]:
        """The scenario rules that make the fake behave so, in the order they apply."""
        effect: dict[str, Any] = {
            "queue_seconds": self.queue_seconds,
            "processing_seconds": self.processing_seconds,
            "progress_curve": self.progress_curve,
        }
        if self.progress_points:
            effect["progress_points"] = [list(point) for point in self.progress_points]
        if self.estimated_time is not None:
            effect["estimated_time"] = self.estimated_time
        if self.error_code is not None:
            effect["error_code"] = self.error_code
        elif self.results_count != 1:
            effect["results_count"] = self.results_count
        rules = [{"name": f"the task: {self.outcome}", "match": CREATE_MATCH, "effect": effect}]
        rules += [t.rule(CREATE_MATCH, "create") for t in self.create_errors]
        rules += [t.rule(POLL_MATCH, "poll") for t in self.poll_errors]
        rules += [f.rule() for f in self.faults]
        if self.extra_fields:
            rules.append(
                {"name": "unknown fields in answers", "effect": {"extra_fields": self.fields}}
            )
        return rules

    def receiver_script(self) -> dict[str, Any]:
        """The callback receiver's behaviour, as ``wanmock receiver`` flags in JSON."""
        script: dict[str, Any] = {"fail_first": self.callback_failures}
        if self.late_callback:
            script["delay"] = LATE_CALLBACK_SECONDS
        return script

    def describe(self, callbacks: bool = True) -> str:
        """One line a person can read: what is unusual about this world (``callbacks``:
        whether the request has a callback_url, without which they do not matter)."""
        parts = [
            f"{self.outcome}" + (f" ({self.error_code})" if self.error_code else ""),
            f"queued {self.queue_seconds} s, processing {self.processing_seconds} s "
            f"({self.progress_curve})",
        ]
        if self.progress_points:
            steps = ", ".join(f"{p}% at {f:.0%}" for f, p in self.progress_points)
            parts.append(f"progress in steps: {steps}")
        if self.estimated_time is not None:
            parts.append(f"estimated_time {self.estimated_time} s")
        if self.error_code is None and self.results_count != 1:
            parts.append(f"{self.results_count} results")
        if self.create_errors:
            parts.append("create: " + ", ".join(t.describe() for t in self.create_errors))
        if self.poll_errors:
            parts.append("polls: " + ", ".join(t.describe() for t in self.poll_errors))
        if self.faults:
            parts.append("faults: " + ", ".join(f.describe() for f in self.faults))
        if self.extra_fields:
            parts.append("unknown fields " + ", ".join(name for name, _ in self.extra_fields))
        if callbacks and self.callback_failures:
            parts.append(f"callback delivered {self.callback_failures + 1} times")
        if callbacks and self.late_callback:
            parts.append("callback late")
        return "; ".join(parts)

    def simpler(self) -> Iterator[ServerWorld]:
        """Worlds one step simpler than this one, biggest step first: the verifier's last
        polish after hypothesis has shrunk (within its time budget)."""
        plain = ServerWorld(error_code=self.error_code)
        steps = [
            plain,
            replace(plain, error_code=None),
            replace(self, create_errors=(), poll_errors=()),
            replace(self, create_errors=()),
            replace(self, poll_errors=()),
            replace(self, faults=()),
            replace(self, faults=self.faults[:1]),
            replace(self, extra_fields=()),
            replace(self, callback_failures=0, late_callback=False),
            replace(self, queue_seconds=0, processing_seconds=1, progress_curve="linear"),
            replace(self, error_code=None),
            replace(self, results_count=1),
            replace(self, progress_points=(), estimated_time=None),
            replace(self, create_errors=self.create_errors[:1], poll_errors=self.poll_errors[:1]),
            replace(
                self,
                create_errors=tuple(replace(t, times=1, retry_after=0) for t in self.create_errors),
                poll_errors=tuple(replace(t, times=1, retry_after=0) for t in self.poll_errors),
            ),
            replace(self, extra_fields=self.extra_fields[:1]),
        ]
        if self.extra_fields:
            steps.append(replace(self, extra_fields=((self.extra_fields[0][0], None),)))
        yield from (step for step in steps if step != self)

    def to_json(self) -> dict[str, Any]:
        return {
            "queue_seconds": self.queue_seconds,
            "processing_seconds": self.processing_seconds,
            "progress_curve": self.progress_curve,
            "outcome": self.outcome,
            "error_code": self.error_code,
            "results_count": self.results_count,
            "progress_points": [list(point) for point in self.progress_points],
            "estimated_time": self.estimated_time,
            "create_errors": [t.__dict__ for t in self.create_errors],
            "poll_errors": [t.__dict__ for t in self.poll_errors],
            "extra_fields": self.fields,
            "callback_failures": self.callback_failures,
            "late_callback": self.late_callback,
            "faults": [f.__dict__ for f in self.faults],
        }


@dataclass(frozen=True)
class Case:
    """One example: the world and the create request handed to the client."""

    world: ServerWorld
    request: Mapping[str, Any] = field(default_factory=dict)
