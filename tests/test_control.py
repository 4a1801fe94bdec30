"""The /_mock control API: observe and steer the fake."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from starlette.testclient import TestClient

from mock_server.api.app import create_app
from tests.conftest import AUTH, Api


def test_control_health_is_ok(api: Api) -> None:
    body = api.control("GET", "/health").json()
    assert body["status"] == "ok" and body["clock"]["mode"] == "virtual"


def test_control_advance_moves_the_clock_exactly(api: Api) -> None:
    start = api.control("GET", "/clock").json()["now"]
    assert api.advance(12.5)["now"] == start + 12.5


@pytest.mark.parametrize(
    "body",
    [
        b"{}",
        b'{"seconds": -1}',
        b'{"seconds": "5"}',
        b'{"seconds": true}',
        b'{"seconds": 1e999}',
        b"[5]",
        b"{",
    ],
)
def test_control_advance_rejects_bad_seconds(api: Api, body: bytes) -> None:
    response = api.control("POST", "/clock/advance", content=body)
    assert response.status_code == 400 and response.json()["error"]["param"] == "seconds"


def test_control_advance_on_the_real_clock_is_refused(make_api: Callable[..., Api]) -> None:
    api = make_api(clock="real")
    assert api.control("POST", "/clock/advance", json={"seconds": 1}).status_code == 409


def test_control_complete_finishes_a_pending_task_and_charges(api: Api) -> None:
    task = api.created()
    api.control("POST", f"/tasks/{task['id']}/complete")
    assert api.status(task["id"])["status"] == "completed"
    assert api.balance() == {
        "credits": "952.4",
        "granted": "1000",
        "reserved": "0",
        "charged": "47.6",
    }


def test_control_fail_releases_the_reservation(api: Api) -> None:
    task = api.created()
    api.control("POST", f"/tasks/{task['id']}/fail", json={"code": "service_error"})
    assert api.balance() == {"credits": "1000", "granted": "1000", "reserved": "0", "charged": "0"}


def test_control_cancel_reads_as_failed_with_request_cancelled(api: Api) -> None:
    task = api.created()
    api.advance(60)
    api.control("POST", f"/tasks/{task['id']}/cancel")
    cancelled = api.status(task["id"])
    assert cancelled["status"] == "failed" and cancelled["error"]["code"] == "request_cancelled"
    assert api.balance()["charged"] == "0"


def test_control_forcing_a_finished_task_changes_nothing(api: Api) -> None:
    task = api.created()
    api.advance(3600)
    api.control("POST", f"/tasks/{task['id']}/fail")
    assert api.status(task["id"])["status"] == "completed"


def test_control_unknown_task_is_404(api: Api) -> None:
    assert api.control("POST", "/tasks/task-unified-1-abcdefgh/complete").status_code == 404


def test_control_fail_with_a_non_string_code_is_400(api: Api) -> None:
    task = api.created()
    assert api.control("POST", f"/tasks/{task['id']}/fail", json={"code": 5}).status_code == 400


def test_control_tasks_show_plan_history_and_billing(api: Api) -> None:
    task = api.created()
    api.advance(3600)
    view = api.control("GET", f"/tasks/{task['id']}").json()
    assert [h["status"] for h in view["history"]] == ["pending", "processing", "completed"]
    assert view["billing"] == {
        "reserved": "47.6",
        "input_seconds": "5",
        "reference_seconds": ["5"],
        "settled": True,
    }
    assert view["task"]["status"] == "completed"


def test_control_put_keys_creates_a_key_with_credits(api: Api) -> None:
    api.control("PUT", "/keys", json={"keys": {"sk-new": {"credits": "12.5"}}})
    assert api.balance("sk-new")["credits"] == "12.5"
    headers = {"Authorization": "Bearer sk-new"}
    assert api.client.get("/v1/tasks/task-unified-1-abcdefgh", headers=headers).status_code == 404


def test_control_put_keys_sets_the_available_balance(api: Api) -> None:
    api.created()
    api.control("PUT", "/keys", json={"keys": {"sk-wanmock-test": {"credits": "100"}}})
    balance = api.balance()
    assert (balance["credits"], balance["reserved"]) == ("100", "47.6")


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"keys": []},
        {"keys": {"k": {"credits": "-1"}}},
        {"keys": {"k": {"credits": "lots"}}},
        {"keys": {"a b": {}}},
        {"keys": {"k": {"user_group": "gold"}}},
        {"keys": {"k": {"models": ["sora"]}}},
    ],
)
def test_control_put_keys_rejects_bad_bodies(api: Api, body: object) -> None:
    response = api.control("PUT", "/keys", json=body)
    assert response.status_code == 400 and "error" in response.json()


def test_control_key_limited_to_a_model_gets_403_for_others(api: Api) -> None:
    api.control(
        "PUT",
        "/keys",
        json={"keys": {"sk-flash": {"credits": "100", "models": ["wan2.6-reference-video-flash"]}}},
    )
    response = api.client.post(
        "/v1/videos/generations",
        headers={"Authorization": "Bearer sk-flash"},
        json={
            "model": "wan2.6-reference-video",
            "prompt": "x",
            "video_urls": ["https://a.com/1.mp4"],
        },
    )
    assert response.status_code == 403 and response.json()["error"]["param"] == "model"


def test_control_vip_key_shows_its_user_group(api: Api) -> None:
    api.control("PUT", "/keys", json={"keys": {"sk-wanmock-test": {"user_group": "vip"}}})
    assert api.created()["usage"]["user_group"] == "vip"


def test_control_reset_forgets_tasks_and_rewinds_the_clock(api: Api) -> None:
    start = api.control("GET", "/clock").json()["now"]
    task = api.created()
    api.control("PUT", "/keys", json={"keys": {"sk-extra": {"credits": "5"}}})
    api.advance(500)
    api.control("POST", "/reset")
    assert api.poll(task["id"]).status_code == 404
    assert api.control("GET", "/clock").json()["now"] == start
    assert set(api.control("GET", "/keys").json()["keys"]) == {"sk-wanmock-test"}
    assert api.balance()["credits"] == "1000"


def test_control_ledger_lists_reserve_release_and_charge(api: Api) -> None:
    task = api.created()
    api.advance(3600)
    entries = api.control("GET", "/ledger").json()["entries"]
    kinds = [(e["kind"], e["amount"]) for e in entries if e["task_id"] == task["id"]]
    assert kinds == [("reserve", "47.6"), ("release", "47.6"), ("charge", "47.6")]


def test_control_token_is_required_when_set(make_fake: Callable[..., object]) -> None:
    client = TestClient(create_app(fake=make_fake(control_token="s3cret")))  # type: ignore[arg-type]
    assert client.get("/_mock/health").status_code == 401
    ok = client.get("/_mock/health", headers={"Authorization": "Bearer s3cret"})
    assert ok.status_code == 200


def test_control_refuses_non_loopback_peers_without_a_token(
    make_fake: Callable[..., object],
) -> None:
    client = TestClient(create_app(fake=make_fake()), client=("203.0.113.9", 5000))  # type: ignore[arg-type]
    assert client.get("/_mock/health").status_code == 403
    assert client.get("/v1/tasks/task-unified-1-abcdefgh", headers=AUTH).status_code == 404
