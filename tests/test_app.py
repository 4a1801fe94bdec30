"""The public API over HTTP: create, query, auth, isolation, errors."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest

from tests.conftest import AUTH, BODY, Api

TASK_ID = re.compile(r"task-unified-(\d+)-[a-z0-9]{8}")


def test_create_answers_the_documented_task_object(api: Api) -> None:
    task = api.created()
    assert set(task) == {
        "created",
        "id",
        "model",
        "object",
        "progress",
        "status",
        "task_info",
        "type",
        "usage",
    }
    assert (task["object"], task["type"], task["status"], task["progress"]) == (
        "video.generation.task",
        "video",
        "pending",
        0,
    )
    assert task["task_info"] == {"can_cancel": True, "estimated_time": 120}
    assert task["usage"] == {
        "billing_rule": "per_second",
        "credits_reserved": 47.6,
        "user_group": "default",
    }


def test_create_task_id_embeds_the_creation_time(api: Api) -> None:
    task = api.created()
    match = TASK_ID.fullmatch(task["id"])
    assert match and int(match.group(1)) == task["created"]


def test_create_flash_model_is_served(api: Api) -> None:
    task = api.created(model="wan2.6-reference-video-flash")
    assert task["model"] == "wan2.6-reference-video-flash"
    assert task["usage"]["credits_reserved"] == 23.8


def test_query_returns_the_same_object_as_create(api: Api) -> None:
    task = api.created()
    assert api.status(task["id"]) == task


def test_query_without_a_key_is_401(api: Api) -> None:
    response = api.poll(api.created()["id"], headers={})
    assert response.status_code == 401
    assert response.json()["error"]["type"] == "authentication_error"


def test_create_with_an_unknown_key_is_401(api: Api) -> None:
    response = api.client.post(
        "/v1/videos/generations", json=BODY, headers={"Authorization": "Bearer sk-nope"}
    )
    assert response.status_code == 401
    assert response.json() == {
        "error": {
            "code": 401,
            "message": "Invalid authentication credentials",
            "type": "authentication_error",
        }
    }


def test_query_of_another_keys_task_is_404(api: Api) -> None:
    api.control("PUT", "/keys", json={"keys": {"sk-other": {"credits": "100"}}})
    task = api.created()
    response = api.poll(task["id"], headers={"Authorization": "Bearer sk-other"})
    assert response.status_code == 404
    assert response.json()["error"] == {
        "code": 404,
        "message": "Task not found or expired",
        "type": "not_found_error",
        "param": "task_id",
    }


def test_query_of_an_unknown_task_is_404(api: Api) -> None:
    assert api.poll("task-unified-1757169743-7cvnl5zw").status_code == 404


@pytest.mark.parametrize(
    "task_id",
    [
        "nope",
        "task-unified-abc-12345678",
        "task-unified-1-ABCDEFGH",
        "task-unified-1757169743-7cvnl5z",
        "%00",
        "a/b",
    ],
)
def test_query_of_a_malformed_id_is_400(api: Api, task_id: str) -> None:
    response = api.poll(task_id)
    assert response.status_code == 400
    assert response.json()["error"]["message"] == "Invalid task ID format"


def test_task_moves_from_pending_to_processing_to_completed(api: Api) -> None:
    task = api.created()
    seen = [api.status(task["id"])["status"]]
    for _ in range(40):
        api.advance(10)
        seen.append(api.status(task["id"])["status"])
    assert seen[0] == "pending" and seen[-1] == "completed"
    assert sorted(set(seen), key=seen.index) == ["pending", "processing", "completed"]


def test_completed_task_has_results_and_cannot_be_cancelled(api: Api) -> None:
    task = api.created()
    api.advance(3600)
    done = api.status(task["id"])
    assert done["progress"] == 100 and done["task_info"]["can_cancel"] is False
    assert len(done["results"]) == 1 and done["results"][0].startswith("http://127.0.0.1:8080/")


def test_failed_task_carries_an_error_and_no_results(api: Api) -> None:
    task = api.created()
    api.control(
        "POST",
        f"/tasks/{task['id']}/fail",
        json={"code": "content_policy_violation", "message": "Flagged"},
    )
    failed = api.status(task["id"])
    assert failed["status"] == "failed" and "results" not in failed
    assert failed["error"]["code"] == "content_policy_violation"
    assert failed["error"]["message"] == "Flagged"


def test_create_with_malformed_json_is_400(api: Api) -> None:
    response = api.client.post("/v1/videos/generations", content=b'{"model": ', headers=AUTH)
    assert response.status_code == 400
    assert response.json()["error"]["type"] == "invalid_request_error"


@pytest.mark.parametrize(
    "raw", [b"", b"null", b"[]", b'"text"', b"\xff\xfe", b'{"prompt": "\\ud800"}']
)
def test_create_with_a_body_that_is_not_an_object_is_400(api: Api, raw: bytes) -> None:
    response = api.client.post("/v1/videos/generations", content=raw, headers=AUTH)
    assert response.status_code == 400


def test_create_with_a_huge_body_is_413(api: Api) -> None:
    response = api.client.post(
        "/v1/videos/generations", headers=AUTH, content=b'{"prompt": "' + b"x" * 2_000_000 + b'"}'
    )
    assert response.status_code == 413
    assert response.json()["error"]["code"] == 413


def test_create_beyond_the_balance_is_402(make_api: Callable[..., Api]) -> None:
    api = make_api(api_key=(("sk-wanmock-test", __import__("decimal").Decimal("40")),))
    response = api.create()
    assert response.status_code == 402
    assert response.json()["error"] == {
        "code": 402,
        "message": "Insufficient quota",
        "type": "insufficient_quota_error",
        "fallback_suggestion": "https://evolink.ai/dashboard/billing",
    }


def test_rejected_create_stores_nothing(api: Api) -> None:
    api.create(duration=99)
    assert api.control("GET", "/tasks").json()["tasks"] == []
    assert api.balance()["reserved"] == "0"


def test_unknown_path_is_a_json_404(api: Api) -> None:
    response = api.client.get("/v2/anything")
    assert response.status_code == 404 and response.json()["error"]["type"] == "not_found_error"


def test_wrong_method_is_a_json_405(api: Api) -> None:
    response = api.client.get("/v1/videos/generations", headers=AUTH)
    assert response.status_code == 405 and "error" in response.json()


def test_stepped_clock_moves_one_step_per_request(make_api: Callable[..., Api]) -> None:
    api = make_api(clock="stepped", step=30.0)
    task = api.created()
    statuses = {api.status(task["id"])["status"] for _ in range(20)}
    assert "completed" in statuses


def test_wrong_method_names_the_allowed_ones(api: Api) -> None:
    response = api.client.delete("/v1/videos/generations", headers=AUTH)
    assert response.headers["allow"] == "POST"
