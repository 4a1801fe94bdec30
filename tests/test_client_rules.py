"""The rules verify-client judges one run by (contracts/checks/client.py, pacing.py), on
hand-made journals: per request kind, within the budget of failures in a row, with the
two correct answers to a create whose outcome is unknown, and tight polling measured
over several pauses (SOURCES.md "Client verification")."""

from __future__ import annotations

from typing import Any

import pytest

from contracts import checks
from contracts.checks.client import ClientRun


def create_entry(status: int = 200, *notes: str) -> dict[str, Any]:
    return {"method": "POST", "path": "/v1/videos/generations", "status": status,
            "task_id": f"t{len(notes)}", "notes": list(notes)}  # fmt: skip


def creates_once(*journal: dict[str, Any]) -> list[str]:
    run = ClientRun(request={}, world={}, outcome=None, journal=journal)
    return [v.check for v in checks.violations(run) if v.check == "client_creates_once"]


def test_client_creates_once_lets_a_create_never_seen_answered_be_sent_again() -> None:
    reset = "transport fault: connection reset halfway through the answer's body"
    assert creates_once(create_entry(200, reset), create_entry(200)) == []
    assert (
        creates_once(create_entry(499, "connection dropped before the answer"), create_entry())
        == []
    )


def test_client_creates_once_refuses_a_create_sent_again_after_a_full_answer() -> None:
    assert creates_once(create_entry(200), create_entry(200, "x")) == ["client_creates_once"]


INJECTED = "scenario 1 (x) applied"
DROPPED = "connection dropped before the answer"


def poll_entry(
    status: int = 200, *notes: str, at: float = 0.0, state: str = "processing"
) -> dict[str, Any]:
    return {"method": "GET", "path": "/v1/tasks/t0", "status": status, "notes": list(notes),
            "wall_at": at, "latency_ms": 0, "response": {"status": state}}  # fmt: skip


def broken_checks(
    *journal: dict[str, Any], outcome: dict[str, Any] | None = None
) -> dict[str, str]:
    task = {"status": "completed", "results": ["https://r/1.mp4"]}
    run = ClientRun(request={}, world={}, outcome=outcome, journal=journal, tasks=[task])
    return {v.check: v.message for v in checks.violations(run)}


FAILED = {"status": "failed", "error_code": "create_outcome_unknown"}


@pytest.mark.parametrize(
    "unknown", [create_entry(504, INJECTED), create_entry(499, INJECTED, DROPPED)], ids=str
)
def test_client_checks_pass_a_client_that_reports_failed_when_a_create_outcome_is_unknown(
    unknown: dict[str, Any],
) -> None:
    assert broken_checks(unknown, outcome=FAILED) == {}


def test_client_checks_refuse_completed_when_no_create_was_answered() -> None:
    found = broken_checks(create_entry(504, INJECTED), outcome={"status": "completed"})
    assert "never saw a create answered in full" in found["client_reports_right_result"]


def test_client_retries_transient_errors_names_the_request_and_the_failures_in_a_row() -> None:
    found = broken_checks(
        create_entry(200),
        poll_entry(503, INJECTED),
        poll_entry(429, INJECTED),
        poll_entry(499, INJECTED, DROPPED),
        outcome=FAILED,
    )
    said = found["client_retries_transient_errors"]
    assert "gave up after a transport fault" in said and "a poll that had failed 3 times" in said


def test_client_retries_transient_errors_refuses_giving_up_on_a_refused_create() -> None:
    found = broken_checks(create_entry(429, INJECTED), outcome=FAILED)
    said = found["client_retries_transient_errors"]
    assert "gave up after a transient 429" in said and "a create that had failed 1 time" in said


@pytest.mark.parametrize(
    ("pauses", "tight"),
    [
        ((0.001, 0.5, 0.5, 0.5), False),
        ((0.001, 0.002, 0.5, 0.003), True),
        ((0.001, 0.002, 0.5), True),
    ],
)
def test_client_does_not_poll_tightly_needs_three_short_pauses_or_a_short_median(
    pauses: tuple[float, ...], tight: bool
) -> None:
    at, journal = 0.0, [create_entry(200)]
    for pause in (0.0, *pauses):
        at += pause
        journal.append(poll_entry(at=at))
    found = broken_checks(
        *journal, outcome={"status": "completed", "video_urls": ["https://r/1.mp4"]}
    )
    assert ("client_does_not_poll_tightly" in found) is tight


def test_client_report_json_names_where_a_client_gave_up() -> None:
    from contracts.client.options import Example
    from contracts.client.runner import Attempt
    from contracts.client.verify import CLIENT_CHECKS
    from contracts.client.world import Case, ServerWorld
    from contracts.reports.worlds import world_json

    journal = [create_entry(200), poll_entry(503, INJECTED), poll_entry(502, INJECTED)]
    run = ClientRun(request={}, world={}, outcome=FAILED, journal=journal)
    example = Example(Case(ServerWorld()), run, checks.run(run, CLIENT_CHECKS), Attempt(None))
    broke = {b["check"]: b for b in world_json(example, "search", 1)["broke"]}
    gave_up = broke["client_retries_transient_errors"]
    assert (gave_up["request_kind"], gave_up["failures_in_a_row"]) == ("poll", 2)
