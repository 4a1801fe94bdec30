"""Client verification: a correct client passes, and each classic mistake is caught,
shrunk to a small world and explained (contracts/client/, contracts/checks/client.py)."""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis.errors import InvalidArgument

from contracts.client import CommandClient, Options, Outcome, Result, verify_client
from contracts.client.outcome import BadOutcome
from contracts.client.report import ClientReport
from contracts.client.world import ServerWorld, Transient
from contracts.strategies import server_worlds
from mock_server.cli import build_parser
from mock_server.domain.scenarios import Scenarios, load_rules, read_rules_file
from tests.clients import BROKEN, CORRECT, Member
from tests.clients.broken import (
    Client,
    failed_as_completed,
    gives_up_on_429,
    gives_up_on_a_broken_connection,
    gives_up_on_a_stall,
    ignores_retry_after,
    never_stops,
    polls_tightly,
    reference_client,
    reports_first_result,
    resubmits_after_a_broken_poll,
    resubmits_on_503,
    strict_parser,
    waits_on_a_failed_task,
)

# -- running the verifier -----------------------------------------------------------------


def verify(
    client: Client | CommandClient,
    tmp_path: Path,
    examples: int = 8,
    max_retry_after: int = 0,
    seed: int = 0,
    max_requests: int = 60,
    search_seconds: float = 600,
    shrink_seconds: float = 1,
) -> Result:
    options = Options(
        examples=examples,
        search_seconds=search_seconds,
        seed=seed,
        step=30,
        max_retry_after=max_retry_after,
        timeout=10,
        max_requests=max_requests,
        shrink_seconds=shrink_seconds,
        replay_file=tmp_path / "failure.json",
    )
    return verify_client(client, options, ClientReport())


def broken(result: Result) -> dict[str, str]:
    assert result.status == 1 and result.failure is not None
    return {v.check: v.message for v in result.failure.violations}


@pytest.mark.parametrize("seed", [0])  # more seeds: the corpus below, and make calibrate
def test_verify_client_passes_a_correct_client(tmp_path: Path, seed: int) -> None:
    result = verify(reference_client, tmp_path, examples=8, max_retry_after=1, seed=seed)
    assert (result.status, result.failure, result.examples) == (0, None, 8)
    assert not (tmp_path / "failure.json").exists()


def test_verify_client_search_ends_when_its_time_is_spent(tmp_path: Path) -> None:
    result = verify(reference_client, tmp_path, examples=50, search_seconds=0.001)
    assert (result.status, result.failure, result.examples) == (0, None, 1)


def test_verify_client_catches_a_client_that_gives_up_on_429(tmp_path: Path) -> None:
    # Shrinking is time-boxed: on a busy machine one second may end it on a 503 that
    # this client also gives up on; three reach the 429 there too.
    found = broken(verify(gives_up_on_429, tmp_path, shrink_seconds=3))
    said = found["client_retries_transient_errors"]
    assert "the client gave up after a transient 429" in said and "in a row" in said


def test_verify_client_catches_a_client_that_resubmits_the_create(tmp_path: Path) -> None:
    found = broken(verify(resubmits_on_503, tmp_path))
    assert "created 2 tasks for one request" in found["client_creates_once"]
    assert "after GET /v1/tasks/" in found["client_creates_once"]


def test_verify_client_catches_a_client_that_treats_failed_as_completed(tmp_path: Path) -> None:
    result = verify(failed_as_completed, tmp_path)
    found = broken(result)
    assert "but the client reported completed" in found["client_surfaces_failures"]
    assert result.failure is not None
    world = result.failure.case.world  # shrunk and polished to the failure alone
    assert world == ServerWorld(error_code=world.error_code) and world.error_code


def test_verify_client_catches_a_client_that_crashes_on_an_unknown_field(tmp_path: Path) -> None:
    found = broken(verify(strict_parser, tmp_path))
    assert "with unknown fields in the answers" in found["client_tolerates_extra_fields"]
    assert "unexpected fields" in found["client_tolerates_extra_fields"]


def test_verify_client_catches_a_client_that_never_stops_polling(tmp_path: Path) -> None:
    found = broken(verify(never_stops, tmp_path))
    assert "the client did not stop" in found["client_terminates"]


def test_verify_client_catches_a_client_that_ignores_retry_after(tmp_path: Path) -> None:
    found = broken(verify(ignores_retry_after, tmp_path, max_retry_after=1))
    assert "said Retry-After: 1" in found["client_honours_retry_after"]
    assert set(found) == {"client_honours_retry_after"}


def test_verify_client_catches_a_client_that_polls_with_no_pause(tmp_path: Path) -> None:
    found = broken(verify(polls_tightly, tmp_path))
    assert "it polls with no pause" in found["client_does_not_poll_tightly"]
    assert set(found) == {"client_does_not_poll_tightly"}


def test_verify_client_catches_a_client_that_reports_one_of_several_results(
    tmp_path: Path,
) -> None:
    result = verify(reports_first_result, tmp_path)
    found = broken(result)
    assert "but the client reported 1 of them" in found["client_reports_all_results"]
    assert set(found) == {"client_reports_all_results"}
    assert result.failure is not None and result.failure.case.world.results_count == 2


def test_verify_client_reports_the_poll_intervals_it_saw(tmp_path: Path) -> None:
    result = verify(reference_client, tmp_path, examples=3)
    assert result.status == 0 and min(result.poll_intervals) >= 0.015


def test_verify_client_catches_a_client_that_takes_a_stall_at_zero_for_death(
    tmp_path: Path,
) -> None:
    result = verify(gives_up_on_a_stall, tmp_path)
    found = broken(result)
    assert (
        "the task completed but the client reported failed" in found["client_reports_right_result"]
    )
    assert result.failure is not None and result.failure.case.world.progress_points


def test_verify_client_stops_a_client_polling_an_ended_task_and_shrinks_it_quickly(
    tmp_path: Path,
) -> None:
    started = time.monotonic()
    result = verify(waits_on_a_failed_task, tmp_path, examples=20, max_requests=500)
    found = broken(result)
    assert "kept polling a task that had ended" in found["client_terminates"]
    assert result.failure is not None
    world = result.failure.case.world
    assert (world.queue_seconds, world.processing_seconds) == (0, 1) and world.error_code
    assert len(result.failure.run.journal) <= 15  # reruns stop soon after the end
    assert time.monotonic() - started < 30


def test_verify_client_catches_a_client_that_resubmits_after_a_broken_poll(
    tmp_path: Path,
) -> None:
    result = verify(resubmits_after_a_broken_poll, tmp_path, examples=20)
    found = broken(result)
    assert "had answered it in full" in found["client_creates_once"]
    assert result.failure is not None and result.failure.case.world.faults


def test_verify_client_catches_a_client_that_gives_up_on_a_broken_connection(
    tmp_path: Path,
) -> None:
    found = broken(verify(gives_up_on_a_broken_connection, tmp_path, examples=20))
    said = found["client_retries_transient_errors"]
    assert "gave up after a transport fault" in said and "a poll that had failed 1 time" in said


# -- the corpus (tests/clients): each client once; make calibrate runs them under many seeds

# Seed 8's first four worlds hold what matters, with no Retry-After to wait: a create reset
# mid-body, one answered 504, one held for 2 s then closed, and three failures in a row on
# polls (two 502s, then a reset).
CORPUS_SEED, CORPUS_EXAMPLES = 8, 4
NEW_BROKEN = ("gives up on a poll after two failures", "completed without a task")


def runnable(member: Member) -> Member:
    missing = member.missing()
    if missing and not (os.environ.get("CI") == "true" and missing == ["node"]):
        pytest.skip(f"needs {', '.join(missing)}")
    return member


@pytest.mark.parametrize("member", [m for m in CORRECT if "correct" in str(m.client)], ids=str)
def test_verify_client_passes_each_correct_client_of_the_corpus(
    tmp_path: Path, member: Member
) -> None:
    client = runnable(member).client
    result = verify(client, tmp_path, CORPUS_EXAMPLES, max_retry_after=1, seed=CORPUS_SEED)
    assert (result.status, result.failure) == (0, None)


@pytest.mark.parametrize("member", [m for m in BROKEN if m.name in NEW_BROKEN], ids=str)
def test_verify_client_catches_each_new_broken_client_of_the_corpus(
    tmp_path: Path, member: Member
) -> None:
    result = verify(member.client, tmp_path, CORPUS_EXAMPLES, max_retry_after=1, seed=CORPUS_SEED)
    assert member.breaks in broken(result)


def test_verify_client_gives_one_client_and_seed_the_same_verdict_three_times(
    tmp_path: Path,
) -> None:
    seen = set()
    for _ in range(3):  # seed 72: four worlds with faults and 429s, none held or waited on
        report = ClientReport()
        options = Options(examples=4, seed=72, step=30, timeout=10, replay_file=None)
        result = verify_client(reference_client, options, report)
        seen.add((result.status, tuple(w["description"] for w in report.worlds)))
    assert len(seen) == 1 and len(next(iter(seen))[1]) == 4


TINY_CLIENT = """
import json, os, time, urllib.request
base, key = os.environ["WANMOCK_BASE_URL"], os.environ["WANMOCK_API_KEY"]
def call(method, path, body=None):
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(base + path, data=data, method=method)
    request.add_header("Authorization", "Bearer " + key)
    request.add_header("Content-Type", "application/json")
    return json.load(urllib.request.urlopen(request))  # no retry at all
task = call("POST", "/v1/videos/generations", json.loads(os.environ["WANMOCK_REQUEST"]))
while task["status"] not in ("completed", "failed"):
    time.sleep(0.015)
    task = call("GET", "/v1/tasks/" + task["id"])
print(json.dumps({"status": "completed", "video_urls": task.get("results", [])}))
"""


def test_verify_client_runs_a_command_and_writes_a_replayable_failure(tmp_path: Path) -> None:
    script = tmp_path / "client.py"
    script.write_text(TINY_CLIENT)
    result = verify(CommandClient(f"{sys.executable} {script}"), tmp_path, examples=10)
    assert result.status == 1 and result.failure is not None
    rules = load_rules(read_rules_file(str(tmp_path / "failure.json")), Scenarios(), "file")
    assert [r.name for r in rules] == [r["name"] for r in result.failure.case.world.rules()]
    assert any(r.name.startswith("transient ") for r in rules)
    journal = json.loads((tmp_path / "failure.journal.json").read_text())
    assert journal == list(result.failure.run.journal)


def test_verify_client_reports_a_command_that_cannot_run(tmp_path: Path) -> None:
    result = verify(CommandClient("wanmock-no-such-client-command"), tmp_path)
    assert result.status == 2


# -- the pieces ---------------------------------------------------------------------------


def test_outcome_reads_a_command_line_and_refuses_other_shapes() -> None:
    assert Outcome.from_output('log\n{"status": "failed", "error_code": "x"}\n') == Outcome.failed(
        "x"
    )
    for bad in ("", "done", '{"status": "completed"}', '{"status": "ok"}'):
        with pytest.raises(BadOutcome):
            Outcome.from_output(bad)


@given(server_worlds())
def test_server_worlds_become_rules_the_fake_accepts(world: ServerWorld) -> None:
    rules = load_rules(world.rules(), Scenarios(), "file")
    assert len(rules) == len(world.rules())
    assert sum(r.times or 0 for r in rules if r.effect.http_status) <= 4


@given(server_worlds(max_consecutive_failures=2))
def test_server_worlds_put_no_more_failures_in_a_row_than_the_budget(world: ServerWorld) -> None:
    assert world.failures_in_a_row("create") <= 2 and world.failures_in_a_row("poll") <= 2


def test_server_worlds_name_a_bad_argument() -> None:
    with pytest.raises(InvalidArgument, match="max_poll_errors"):
        server_worlds(max_poll_errors=-1).example()


def test_server_world_transient_rule_sets_its_own_retry_after() -> None:
    rule = Transient(503, None, 2).rule({"method": "GET"}, "poll")
    assert rule["effect"] == {"http_status": 503, "headers": {}} and rule["times"] == 2


def test_cli_verify_client_parses_its_flags() -> None:
    args = build_parser().parse_args(
        ["verify-client", "--cmd", "python c.py", "--examples", "3", "--seed", "7"]
    )
    assert (args.cmd, args.examples, args.seed) == ("python c.py", 3, 7)
