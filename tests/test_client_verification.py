"""Client verification: a correct client passes, and each classic mistake is caught,
shrunk to a small world and explained (contracts/client/, contracts/checks/client.py)."""

from __future__ import annotations

import json
import ssl
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
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

TRANSIENT = {429, 502, 503}
TLS = ssl.create_default_context()  # built once: a forked client reuses it
Client = Callable[[str, str, dict[str, Any]], Outcome]
PAUSE = 0.015  # between polls: above the 10 ms tight-polling floor, so a broken client
# below is caught by the one property it breaks


# -- clients under test -------------------------------------------------------------------


def call(http: httpx.Client, method: str, path: str, patiently: bool = True, **kwargs: Any) -> Any:
    """One call, retried on 429/502/503 after Retry-After (or a short backoff), and on a
    broken connection when ``patiently``."""
    for attempt in range(6):
        if patiently:
            answer = patient(http, method, path, **kwargs)
        else:
            answer = http.request(method, path, **kwargs)
        if answer.status_code not in TRANSIENT:
            answer.raise_for_status()
            return answer.json()
        time.sleep(float(answer.headers.get("Retry-After", 0.01 * 2**attempt)))
    answer.raise_for_status()
    raise AssertionError("unreachable")


def patient(http: httpx.Client, method: str, path: str, **kwargs: Any) -> httpx.Response:
    """One request, sent again while its answer never comes in full (transport faults)."""
    for attempt in range(5):
        try:
            return http.request(method, path, **kwargs)
        except httpx.TransportError:
            time.sleep(PAUSE * 2**attempt)
    return http.request(method, path, **kwargs)


def session(base_url: str, api_key: str) -> httpx.Client:
    auth = {"Authorization": f"Bearer {api_key}"}
    return httpx.Client(base_url=base_url, headers=auth, timeout=30, verify=TLS)


def reference_client(base_url: str, api_key: str, request: dict[str, Any]) -> Outcome:
    """Creates once, polls with backoff, honours Retry-After, reports what the task says."""
    with session(base_url, api_key) as http:
        task = call(http, "POST", "/v1/videos/generations", json=request)
        wait = 0.015
        while task["status"] not in ("completed", "failed"):
            time.sleep(wait)
            wait = min(wait * 2, 0.03)
            task = call(http, "GET", f"/v1/tasks/{task['id']}")
    if task["status"] == "completed":
        return Outcome.completed(task["results"])
    return Outcome.failed(task["error"]["code"])


def gives_up_on_429(base_url: str, api_key: str, request: dict[str, Any]) -> Outcome:
    with session(base_url, api_key) as http:
        answer = patient(http, "POST", "/v1/videos/generations", json=request)
        if answer.status_code == 429:
            return Outcome.failed("rate_limited")
        task = answer.json()
        while task["status"] not in ("completed", "failed"):
            time.sleep(PAUSE)
            answer = patient(http, "GET", f"/v1/tasks/{task['id']}")
            if answer.status_code == 429:
                return Outcome.failed("rate_limited")
            task = answer.json() if answer.status_code == 200 else task
    return reference_outcome(task)


def resubmits_on_503(base_url: str, api_key: str, request: dict[str, Any]) -> Outcome:
    with session(base_url, api_key) as http:
        task = call(http, "POST", "/v1/videos/generations", json=request)
        while task["status"] not in ("completed", "failed"):
            time.sleep(PAUSE)
            answer = patient(http, "GET", f"/v1/tasks/{task['id']}")
            if answer.status_code == 503:  # "it is gone": start over
                task = call(http, "POST", "/v1/videos/generations", json=request)
            elif answer.status_code == 200:
                task = answer.json()
    return reference_outcome(task)


def failed_as_completed(base_url: str, api_key: str, request: dict[str, Any]) -> Outcome:
    outcome = reference_client(base_url, api_key, request)
    return Outcome.completed(outcome.video_urls)


KNOWN = {"created", "id", "model", "object", "progress", "status", "task_info", "type", "usage"}


def strict_parser(base_url: str, api_key: str, request: dict[str, Any]) -> Outcome:
    with session(base_url, api_key) as http:
        task = call(http, "POST", "/v1/videos/generations", json=request)
        while True:
            unknown = set(task) - KNOWN - {"results", "error"}
            unknown |= set(task["task_info"]) - {"can_cancel", "estimated_time"}
            if unknown:
                raise KeyError(f"unexpected fields {sorted(unknown)}")
            if task["status"] in ("completed", "failed"):
                return reference_outcome(task)
            time.sleep(PAUSE)
            task = call(http, "GET", f"/v1/tasks/{task['id']}")


def never_stops(base_url: str, api_key: str, request: dict[str, Any]) -> Outcome:
    with session(base_url, api_key) as http:
        task = call(http, "POST", "/v1/videos/generations", json=request)
        while True:  # waits for a "done" status the API never sends
            time.sleep(PAUSE)
            task = call(http, "GET", f"/v1/tasks/{task['id']}")


def ignores_retry_after(base_url: str, api_key: str, request: dict[str, Any]) -> Outcome:
    with session(base_url, api_key) as http:

        def hasty(method: str, path: str, **kwargs: Any) -> Any:
            while (answer := patient(http, method, path, **kwargs)).status_code in TRANSIENT:
                time.sleep(PAUSE)  # "Retry-After is only a hint"
            answer.raise_for_status()
            return answer.json()

        task = hasty("POST", "/v1/videos/generations", json=request)
        while task["status"] not in ("completed", "failed"):
            time.sleep(PAUSE)
            task = hasty("GET", f"/v1/tasks/{task['id']}")
    return reference_outcome(task)


def polls_tightly(base_url: str, api_key: str, request: dict[str, Any]) -> Outcome:
    with session(base_url, api_key) as http:
        task = call(http, "POST", "/v1/videos/generations", json=request)
        while task["status"] not in ("completed", "failed"):
            task = call(http, "GET", f"/v1/tasks/{task['id']}")  # no pause at all
    return reference_outcome(task)


def reports_first_result(base_url: str, api_key: str, request: dict[str, Any]) -> Outcome:
    outcome = reference_client(base_url, api_key, request)
    return Outcome(outcome.status, outcome.video_urls[:1], outcome.error_code)


def gives_up_on_a_stall(base_url: str, api_key: str, request: dict[str, Any]) -> Outcome:
    with session(base_url, api_key) as http:
        task = call(http, "POST", "/v1/videos/generations", json=request)
        seen: list[int] = []
        while task["status"] not in ("completed", "failed"):
            seen.append(task["progress"])
            if task["status"] == "processing" and seen[-3:] == [0, 0, 0]:
                return Outcome.failed("generation_timeout")  # "stuck at 0: it is dead"
            time.sleep(PAUSE)
            task = call(http, "GET", f"/v1/tasks/{task['id']}")
    return reference_outcome(task)


def waits_on_a_failed_task(base_url: str, api_key: str, request: dict[str, Any]) -> Outcome:
    with session(base_url, api_key) as http:
        task = call(http, "POST", "/v1/videos/generations", json=request)
        while task["status"] != "completed":  # a failed task: wait on, forever
            time.sleep(PAUSE)
            task = call(http, "GET", f"/v1/tasks/{task['id']}")
    return reference_outcome(task)


def resubmits_after_a_broken_poll(base_url: str, api_key: str, request: dict[str, Any]) -> Outcome:
    with session(base_url, api_key) as http:
        task = call(http, "POST", "/v1/videos/generations", json=request)
        while task["status"] not in ("completed", "failed"):
            time.sleep(PAUSE)
            try:
                task = call(http, "GET", f"/v1/tasks/{task['id']}", patiently=False)
            except httpx.TransportError:  # "the task is lost": start over
                task = call(http, "POST", "/v1/videos/generations", json=request)
    return reference_outcome(task)


def gives_up_on_a_broken_connection(
    base_url: str, api_key: str, request: dict[str, Any]
) -> Outcome:
    with session(base_url, api_key) as http:
        try:
            task = call(http, "POST", "/v1/videos/generations", False, json=request)
            while task["status"] not in ("completed", "failed"):
                time.sleep(PAUSE)
                task = call(http, "GET", f"/v1/tasks/{task['id']}", patiently=False)
        except httpx.TransportError:
            return Outcome.failed("network_error")
    return reference_outcome(task)


def reference_outcome(task: dict[str, Any]) -> Outcome:
    if task["status"] == "completed":
        return Outcome.completed(task["results"])
    return Outcome.failed(task["error"]["code"])


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


@pytest.mark.parametrize("seed", [0, 1, 2])
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
    assert "the client gave up after a transient 429" in found["client_retries_transient_errors"]


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
    assert "gave up after a transport fault" in found["client_retries_transient_errors"]


def create_entry(status: int = 200, *notes: str) -> dict[str, Any]:
    return {"method": "POST", "path": "/v1/videos/generations", "status": status,
            "task_id": f"t{len(notes)}", "notes": list(notes)}  # fmt: skip


def creates_once(*journal: dict[str, Any]) -> list[str]:
    from contracts import checks
    from contracts.checks.client import ClientRun

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
