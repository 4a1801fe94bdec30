"""Scenarios through both front doors, the journal and the timeline, over HTTP."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from mock_server.runtime.config import Config
from mock_server.testing.embedded import ServerThread
from tests.conftest import AUTH, BODY, Api

RATE_LIMIT = {
    "match": {"path": "/v1/videos/generations"},
    "effect": {"http_status": 429, "headers": {"Retry-After": "5"}},
    "times": 1,
}


def add(api: Api, spec: Any) -> Any:
    response = api.control("POST", "/scenarios", json=spec)
    assert response.status_code == 200, response.text
    return response.json()["rules"]


def test_rule_makes_the_next_create_answer_429_then_recovers(api: Api) -> None:
    add(api, RATE_LIMIT)
    first = api.create()
    assert first.status_code == 429 and first.headers["retry-after"] == "5"
    assert first.json()["error"] == {
        "code": 429,
        "message": "Rate limit exceeded",
        "type": "rate_limit_error",
        "fallback_suggestion": "retry after 5 seconds",
    }
    assert api.create().status_code == 200


def test_rule_makes_polls_answer_503_twice_then_succeed(api: Api) -> None:
    task = api.created()
    add(api, {"match": {"task_id": task["id"]}, "effect": {"http_status": 503}, "times": 2})
    assert [api.poll(task["id"]).status_code for _ in range(3)] == [503, 503, 200]


def test_rule_adds_unknown_fields_to_creates_and_polls(api: Api) -> None:
    add(api, {"effect": {"extra_fields": {"request_id": "r-1", "task_info.queue_position": 3}}})
    created = api.created()
    polled = api.poll(created["id"])
    for answer in (created, polled.json()):
        assert answer["request_id"] == "r-1" and answer["task_info"]["queue_position"] == 3
    assert int(polled.headers["content-length"]) == len(polled.content)
    journal = api.control("GET", "/requests").json()["requests"]
    assert [e["response"]["request_id"] for e in journal] == ["r-1", "r-1"]


def test_rule_leaves_error_answers_without_extra_fields(api: Api) -> None:
    add(api, {"effect": {"extra_fields": {"request_id": "r-1"}}})
    assert "request_id" not in api.poll("task-unified-1-aaaaaaaa").json()


def test_token_makes_polls_answer_503_twice_then_succeed(api: Api) -> None:
    task = api.created(prompt="dance [wanmock:poll_http=503*2]")
    assert [api.poll(task["id"]).status_code for _ in range(3)] == [503, 503, 200]


def test_injected_503_carries_retry_after(api: Api) -> None:
    add(api, {"effect": {"http_status": 503}, "times": 1})
    response = api.create()
    assert response.headers["retry-after"] == "30"
    assert response.json()["error"]["type"] == "service_unavailable_error"


def test_token_fails_the_task_with_its_code_and_no_charge(api: Api) -> None:
    task = api.created(prompt="a cat [wanmock:fail=content_policy]")
    api.advance(3600)
    failed = api.status(task["id"])
    assert failed["status"] == "failed"
    assert failed["error"]["code"] == "content_policy_violation"
    assert api.balance()["charged"] == "0" and api.balance()["credits"] == "1000"


def test_rule_fails_matching_tasks_only(api: Api) -> None:
    add(
        api, {"match": {"prompt__regex": "^doomed"}, "effect": {"error_code": "generation_timeout"}}
    )
    doomed, fine = api.created(prompt="doomed clip"), api.created(prompt="fine clip")
    api.advance(3600)
    assert api.status(doomed["id"])["error"]["code"] == "generation_timeout"
    assert api.status(fine["id"])["status"] == "completed"


def test_token_sets_the_processing_time(api: Api) -> None:
    task = api.created(prompt="slow [wanmock:queue=0] [wanmock:delay=600]")
    api.advance(599)
    assert api.status(task["id"])["status"] == "processing"
    api.advance(1)
    assert api.status(task["id"])["status"] == "completed"


def test_token_http_answers_the_create_once_per_key(api: Api) -> None:
    prompt = "retry me [wanmock:http=502]"
    assert api.create(prompt=prompt).status_code == 502
    assert api.create(prompt=prompt).status_code == 200


def test_bad_token_is_a_400_on_the_prompt(api: Api) -> None:
    response = api.create(prompt="x [wanmock:delay=later]")
    assert response.status_code == 400 and response.json()["error"]["param"] == "prompt"


def test_bad_rule_is_refused_and_nothing_is_added(api: Api) -> None:
    response = api.control("POST", "/scenarios", json=[RATE_LIMIT, {"effect": {"http_status": 99}}])
    assert response.status_code == 400
    assert api.control("GET", "/scenarios").json()["rules"] == []


def test_rules_list_shows_remaining_uses(api: Api) -> None:
    add(api, {**RATE_LIMIT, "times": 3})
    api.create()
    [rule] = api.control("GET", "/scenarios").json()["rules"]
    assert (rule["used"], rule["remaining"]) == (1, 2)


def test_delete_one_rule_restores_normal_answers(api: Api) -> None:
    [rule] = add(api, {"effect": {"http_status": 500}})
    api.control("DELETE", f"/scenarios/{rule['id']}")
    assert api.create().status_code == 200


def test_delete_all_rules(api: Api) -> None:
    add(api, [RATE_LIMIT, RATE_LIMIT])
    api.control("DELETE", "/scenarios")
    assert api.control("GET", "/scenarios").json()["rules"] == []


def test_reset_clears_rules_and_journal(api: Api) -> None:
    add(api, RATE_LIMIT)
    api.create()
    api.control("POST", "/reset")
    assert api.control("GET", "/scenarios").json()["rules"] == []
    assert api.control("GET", "/requests").json()["requests"] == []


def test_journal_lists_requests_in_order_with_answers(api: Api) -> None:
    task = api.created()
    api.poll(task["id"])
    api.create(duration=99)
    entries = api.control("GET", "/requests").json()["requests"]
    assert [(e["method"], e["status"]) for e in entries] == [
        ("POST", 200),
        ("GET", 200),
        ("POST", 400),
    ]
    assert entries[0]["task_id"] == task["id"] and entries[0]["response"]["id"] == task["id"]
    assert any("duration" in note for note in entries[2]["notes"])


def test_journal_records_wall_time_and_the_retry_after_sent(api: Api) -> None:
    add(api, RATE_LIMIT)
    api.create()
    task = api.created()
    limited, accepted = api.control("GET", "/requests").json()["requests"]
    assert (limited["status"], limited["retry_after"]) == (429, "5")
    assert accepted["retry_after"] is None and task["id"] == accepted["task_id"]
    assert 0 < limited["wall_at"] <= accepted["wall_at"]


def test_journal_reads_rows_stored_before_wall_time() -> None:
    from mock_server.runtime.journal import decode

    old = [1, 10.0, "k", None, "GET", "/v1/tasks/x", 404, 1.0, None, None, None]
    assert decode(old)["wall_at"] is None and decode(old)["retry_after"] is None


def test_journal_filters_by_task(api: Api) -> None:
    first, second = api.created(), api.created()
    api.poll(second["id"])
    entries = api.control("GET", f"/requests?task_id={second['id']}").json()["requests"]
    assert {e["task_id"] for e in entries} == {second["id"]} and len(entries) == 2
    assert first["id"] not in str(entries)


def test_journal_notes_a_client_polling_too_fast(api: Api) -> None:
    task = api.created()
    api.poll(task["id"])
    api.poll(task["id"])
    notes = api.control("GET", "/requests").json()["requests"][-1]["notes"]
    assert any("polled again" in n for n in notes)


def test_journal_is_bounded(make_api: Callable[..., Api]) -> None:
    api = make_api(journal_limit=3)
    for _ in range(5):
        api.poll("task-unified-1-abcdefgh")
    api.fake.journal.flush()
    assert len(api.control("GET", "/requests").json()["requests"]) == 3


def test_events_put_requests_states_ledger_in_time_order(api: Api) -> None:
    task = api.created()
    api.advance(3600)
    events = api.control("GET", f"/events?task_id={task['id']}").json()["events"]
    kinds = [(e["kind"], e.get("status") or e.get("ledger_kind")) for e in events]
    assert kinds == [
        ("request", 200),
        ("task", "pending"),
        ("ledger", "reserve"),
        ("task", "processing"),
        ("task", "completed"),
        ("ledger", "release"),
        ("ledger", "charge"),
    ]
    assert [e["at"] for e in events] == sorted(e["at"] for e in events)


def test_failure_rate_is_reproducible_from_the_seed(make_api: Callable[..., Api]) -> None:
    def outcomes(seed: int) -> list[str]:
        api = make_api(failure_rate=0.5, seed=seed)
        ids = [api.created()["id"] for _ in range(12)]
        api.advance(3600)
        return [api.status(i)["status"] for i in ids]

    first = outcomes(7)
    assert first == outcomes(7) and {"completed", "failed"} == set(first)


def test_scenarios_file_is_loaded_at_start_and_after_reset(
    make_api: Callable[..., Api], tmp_path: Path
) -> None:
    rules = tmp_path / "rules.json"
    rules.write_text('[{"name": "busy", "effect": {"http_status": 429}, "times": 1}]')
    api = make_api(scenarios=str(rules))
    assert api.create().status_code == 429
    api.control("POST", "/reset")
    assert api.create().status_code == 429 and api.create().status_code == 200


@pytest.fixture(scope="module")
def server() -> Any:
    thread = ServerThread(Config(db=":memory:", clock="virtual"))
    yield thread
    thread.close()


def test_rule_drops_the_connection(server: ServerThread) -> None:
    server.reset()
    httpx.post(
        f"{server.base_url}/_mock/scenarios", json={"effect": {"drop_connection": True}, "times": 1}
    )
    with pytest.raises(httpx.RemoteProtocolError):
        httpx.post(f"{server.base_url}/v1/videos/generations", json=BODY, headers=AUTH)
    assert (
        httpx.post(f"{server.base_url}/v1/videos/generations", json=BODY, headers=AUTH).status_code
        == 200
    )


def test_token_drops_the_connection_once(server: ServerThread) -> None:
    server.reset()
    body = {**BODY, "prompt": "flaky [wanmock:drop]"}
    with pytest.raises(httpx.RemoteProtocolError):
        httpx.post(f"{server.base_url}/v1/videos/generations", json=body, headers=AUTH)
    assert (
        httpx.post(f"{server.base_url}/v1/videos/generations", json=body, headers=AUTH).status_code
        == 200
    )


def test_journal_flags_an_unknown_failure_code(api: Api) -> None:
    add(api, {"effect": {"error_code": "gremlins"}, "times": 1})
    api.created()
    [entry] = api.control("GET", "/requests").json()["requests"]
    assert any("gremlins" in note for note in entry["notes"])


def test_journal_flags_an_undocumented_http_status(api: Api) -> None:
    add(api, {"effect": {"http_status": 418}, "times": 1})
    assert api.create().status_code == 418
    [entry] = api.control("GET", "/requests").json()["requests"]
    assert any("418" in note for note in entry["notes"])
