"""Drift: the fake's answers keep the shapes recorded from the real API (fixtures/recorded/)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from contracts.provider.drift import differences, drift, shape
from contracts.provider.recordings import load, scrub

RECORDED = Path(__file__).resolve().parent.parent / "fixtures" / "recorded"


def test_drift_fake_matches_recorded_real_answers() -> None:
    recordings = load(RECORDED)
    if not recordings:
        pytest.skip("no recordings in fixtures/recorded/ (see its README.md)")
    assert drift(recordings) == []


def recording(operation: str, method: str, path: str, status: int, body: Any, **rest: Any) -> Any:
    return {
        "operation": operation,
        "method": method,
        "path": path,
        "auth": "key",
        "request": None,
        "status": status,
        "content_type": "application/json",
        "body": body,
        **rest,
    }


PENDING = {
    "created": 1757169743,
    "id": "task-unified-1757169743-7cvnl5zw",
    "model": "wan2.6-reference-video",
    "object": "video.generation.task",
    "progress": 0,
    "status": "pending",
    "task_info": {"can_cancel": True, "estimated_time": 120},
    "type": "video",
    "usage": {"billing_rule": "per_second", "credits_reserved": 5, "user_group": "default"},
}


def test_drift_none_for_answers_shaped_like_the_fakes() -> None:
    unknown = recording(
        "query-unknown",
        "GET",
        "/v1/tasks/task-unified-1757169743-zzzzzzzz",
        404,
        {
            "error": {
                "code": 404,
                "message": "Task not found or expired",
                "type": "not_found_error",
                "param": "task_id",
            }
        },
    )
    assert drift([recording("query", "GET", "/v1/tasks/x", 200, PENDING), unknown]) == []


def test_drift_names_a_field_only_the_real_api_sends() -> None:
    real = {**PENDING, "request_id": "req-1"}
    [found] = drift([recording("query", "GET", "/v1/tasks/x", 200, real)])
    assert "$.request_id: recorded, but the fake does not send it" in found


def test_drift_names_a_status_the_fake_answers_differently() -> None:
    malformed = recording(
        "query-malformed",
        "GET",
        "/v1/tasks/not-a-task-id",
        404,
        {"error": {"code": 404, "message": "m", "type": "not_found_error"}},
    )
    [found] = drift([malformed])
    assert "the fake answers HTTP 400" in found


def test_drift_shapes_ignore_values_but_not_types() -> None:
    assert differences(shape({"a": 1, "b": [1]}), shape({"a": 2.5, "b": [7, 8]})) == []
    assert differences(shape({"a": 1}), shape({"a": "1"})) == [
        "$.a: recorded 'number', the fake has 'string'"
    ]


def test_drift_recordings_are_scrubbed_of_secrets_and_signatures() -> None:
    body = {
        "results": ["https://cdn.example.com/v.mp4?Expires=1&Signature=abc"],
        "note": "key sk-secret-1 here",
    }
    assert scrub(body, ["sk-secret-1"]) == {
        "results": ["https://cdn.example.com/v.mp4?<scrubbed>"],
        "note": "key <scrubbed> here",
    }
