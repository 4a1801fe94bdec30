"""Hostile input anywhere gets a 4xx in the right shape: never a 500, never a traceback."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import AUTH, BODY, Api

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4)
    ),
    max_leaves=12,
)
JSON_ENDPOINTS = [
    ("POST", "/v1/videos/generations"),
    ("POST", "/api/v1/files/upload/base64"),
    ("POST", "/api/v1/files/upload/url"),
    ("POST", "/_mock/clock/advance"),
    ("PUT", "/_mock/keys"),
    ("POST", "/_mock/scenarios"),
]


def assert_clean(response: Any) -> None:
    assert response.status_code < 500, response.text
    assert "Traceback" not in response.text
    response.json()


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(endpoint=st.sampled_from(JSON_ENDPOINTS), body=json_values)
def test_hostile_json_bodies_never_cause_a_server_error(
    api: Api, endpoint: tuple[str, str], body: Any
) -> None:
    method, path = endpoint
    assert_clean(api.client.request(method, path, json=body, headers=AUTH))


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    fields=st.dictionaries(
        st.sampled_from([*sorted(BODY), "duration", "quality", "callback_url", "model_params"]),
        json_values,
        max_size=4,
    )
)
def test_hostile_create_fields_never_cause_a_server_error(api: Api, fields: dict[str, Any]) -> None:
    assert_clean(api.create(**fields))


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(raw=st.binary(max_size=64))
def test_hostile_bytes_never_cause_a_server_error(api: Api, raw: bytes) -> None:
    assert_clean(api.client.post("/v1/videos/generations", content=raw, headers=AUTH))


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("PUT", "/_mock/keys", {"keys": {"k": {"credits": "1e9999999"}}}),
        ("POST", "/_mock/clock/advance", {"seconds": 1e300}),
        ("POST", "/_mock/scenarios", {"effect": {"delay_seconds": 1e300}}),
        ("POST", "/_mock/scenarios", {"effect": {"http_status": 429, "headers": {"X": "a\r\nb"}}}),
        ("GET", "/_mock/requests?limit=-5", None),
        ("GET", "/v1/tasks/task-unified-99999999999999999999-abcdefgh", None),
        ("POST", "/v1/videos/generations", {**BODY, "prompt": "[wanmock:delay=1e300]"}),
        ("POST", "/v1/videos/generations", {**BODY, "prompt": "[wanmock:teleport=1]"}),
        ("POST", "/v1/videos/generations", {**BODY, "prompt": "\x00\ud7ff\U0010ffff" * 100}),
    ],
)
def test_hostile_values_are_refused_with_a_4xx(api: Api, method: str, path: str, body: Any) -> None:
    response = api.client.request(method, path, json=body, headers=AUTH)
    assert_clean(response)


def test_hostile_input_loses_nothing_already_stored(api: Api) -> None:
    task = api.created()
    api.client.post("/v1/videos/generations", content=b"\xff" * 10_000, headers=AUTH)
    api.control("PUT", "/keys", json={"keys": {"sk-wanmock-test": {"credits": "NaN"}}})
    assert api.status(task["id"]) == task
    assert api.balance()["reserved"] == "47.6"
