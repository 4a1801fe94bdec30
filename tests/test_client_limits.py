"""How long one run of a client may go on (contracts/client/limits.py)."""

from __future__ import annotations

from contracts.client.limits import Limits, honest_requests, polls_after_end, shrink_limits
from contracts.client.world import ServerWorld, Transient


def poll(status: str) -> dict[str, object]:
    return {"method": "GET", "path": "/v1/tasks/t", "status": 200, "response": {"status": status}}


def test_limits_polls_after_end_count_from_the_first_poll_showing_the_end() -> None:
    journal = [poll("processing"), poll("failed"), poll("failed"), poll("failed")]
    assert polls_after_end(journal) == 2
    assert polls_after_end([poll("processing")]) == 0


def test_limits_honest_requests_cover_the_life_of_the_task_and_its_transients() -> None:
    world = ServerWorld(queue_seconds=20, processing_seconds=95, poll_errors=(Transient(503),))
    assert honest_requests(world, 10) == 12 + 1 + 10


def test_limits_shrink_a_runaway_rerun_to_what_reproduces_it() -> None:
    user = Limits(60, 500)
    small = shrink_limits(user, ServerWorld(), 10, slowest_pass=1.0, terminates=True)
    assert (small.seconds, small.requests, small.after_end) == (5.0, 51, 3)


def test_limits_other_failures_keep_the_users_limits_while_shrinking() -> None:
    user = Limits(60, 500)
    assert shrink_limits(user, ServerWorld(), 10, slowest_pass=1.0, terminates=False) == user
