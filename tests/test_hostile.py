"""Hostile input anywhere gets the exact 4xx the rules give, in the right shape: never a
500, never a traceback. Where the status depends on the drawn input, the contract's own
schema (``contracts/schemas.py``) says which it must be, not the fake; on the control
API, every route takes hostile ids, queries and bodies and answers a status its
operation in ``contracts/openapi.yaml`` documents."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from contracts import facts, schemas
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
CREATE = "/v1/videos/generations"
JSON_ENDPOINTS = [
    ("POST", "/v1/videos/generations"),
    ("POST", "/api/v1/files/upload/base64"),
    ("POST", "/api/v1/files/upload/url"),
    ("POST", "/_mock/clock/advance"),
    ("PUT", "/_mock/keys"),
    ("POST", "/_mock/scenarios"),
]


def assert_clean(response: Any, status: int) -> None:
    assert response.status_code == status, response.text
    assert "Traceback" not in response.text
    response.json()


def create_status(body: dict[str, Any]) -> int:
    """What the contract says a create body earns: 404 for an unknown model (checked
    first), else 200 if it has the documented shape, else 400."""
    model = body.get("model")
    if isinstance(model, str) and model and model not in facts.MODELS:
        return 404
    return 200 if schemas.conforms(body, schemas.CREATE_REQUEST) else 400


def json_status(path: str, body: Any) -> int | None:
    """The status a JSON body of any shape gets; None where it depends on the body's
    meaning (a dict may be a valid scenario rule)."""
    if path == "/_mock/scenarios" and isinstance(body, dict | list):
        return None
    return 400


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(endpoint=st.sampled_from(JSON_ENDPOINTS), body=json_values)
def test_hostile_json_bodies_never_cause_a_server_error(
    api: Api, endpoint: tuple[str, str], body: Any
) -> None:
    method, path = endpoint
    response = api.client.request(method, path, json=body, headers=AUTH)
    status = json_status(path, body)
    assert_clean(response, response.status_code if status is None else status)
    assert status is not None or response.status_code in (200, 400)


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
    api.control("PUT", "/keys", json={"keys": {"sk-wanmock-test": {"credits": "1000000"}}})
    assert_clean(api.create(**fields), create_status({**BODY, **fields}))


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(raw=st.binary(max_size=64))
def test_hostile_bytes_never_cause_a_server_error(api: Api, raw: bytes) -> None:
    assert_clean(api.client.post("/v1/videos/generations", content=raw, headers=AUTH), 400)


@pytest.mark.parametrize(
    ("method", "path", "body", "status", "param"),
    [
        ("PUT", "/_mock/keys", {"keys": {"k": {"credits": "1e9999999"}}}, 400, "keys.k.credits"),
        ("PUT", "/_mock/keys", {"keys": {"k": {"models": [["x"], {}]}}}, 400, "keys.k.models"),
        ("POST", "/_mock/clock/advance", {"seconds": 1e300}, 400, "seconds"),
        ("POST", "/_mock/scenarios", {"effect": {"delay_seconds": 1e300}}, 400, None),
        (
            "POST",
            "/_mock/scenarios",
            {"effect": {"http_status": 429, "headers": {"X": "a\r\nb"}}},
            400,
            "effect.headers",
        ),
        ("GET", "/_mock/requests?limit=-5", None, 400, "limit"),
        ("GET", "/v1/tasks/task-unified-99999999999999999999-abcdefgh", None, 400, "task_id"),
        (
            "POST",
            "/v1/videos/generations",
            {**BODY, "prompt": "[wanmock:delay=1e300]"},
            400,
            "prompt",
        ),
        (
            "POST",
            "/v1/videos/generations",
            {**BODY, "prompt": "[wanmock:teleport=1]"},
            400,
            "prompt",
        ),
    ],
)
def test_hostile_values_are_refused_with_the_exact_4xx(
    api: Api, method: str, path: str, body: Any, status: int, param: str | None
) -> None:
    response = api.client.request(method, path, json=body, headers=AUTH)
    assert_clean(response, status)
    if param is not None:
        assert response.json()["error"]["param"] == param


def test_hostile_odd_characters_in_a_prompt_are_accepted(api: Api) -> None:
    # NUL, the last BMP code point before the surrogates and the last code point: all
    # valid JSON text, so a valid prompt.
    body = {**BODY, "prompt": "\x00\ud7ff\U0010ffff" * 100}
    assert_clean(api.client.post("/v1/videos/generations", json=body, headers=AUTH), 200)


def test_hostile_input_loses_nothing_already_stored(api: Api) -> None:
    task = api.created()
    api.client.post("/v1/videos/generations", content=b"\xff" * 10_000, headers=AUTH)
    api.control("PUT", "/keys", json={"keys": {"sk-wanmock-test": {"credits": "NaN"}}})
    assert api.status(task["id"]) == task
    assert api.balance()["reserved"] == "47.6"


def control_operations() -> list[tuple[str, str, dict[str, Any]]]:
    """(method, path, operation) of every control route the document describes."""
    from tests.test_openapi import document

    return [
        (method.upper(), path, operation)
        for path, item in document()["paths"].items()
        if path.startswith("/_mock")
        for method, operation in item.items()
    ]


CONTROL = control_operations()
PATH_PARAM = re.compile(r"\{([a-z_]+)\}")


def test_hostile_control_routes_are_every_one_the_fake_serves(api: Api) -> None:
    from starlette.routing import Mount, Route

    mount = next(r for r in api.client.app.routes if isinstance(r, Mount))
    served = {
        (method, mount.path + route.path)
        for route in mount.routes
        if isinstance(route, Route)
        for method in (route.methods or set()) - {"HEAD"}
    }
    assert {(m, p) for m, p, _ in CONTROL} == served


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    route=st.sampled_from(CONTROL),
    ids=st.text(max_size=40),
    query=st.dictionaries(
        st.sampled_from(["limit", "cursor", "key", "status", "task_id", "task", "since"]),
        st.text(max_size=30),
        max_size=4,
    ),
    body=json_values,
)
def test_hostile_input_to_every_control_route_gets_a_documented_4xx_or_success(
    api: Api,
    route: tuple[str, str, dict[str, Any]],
    ids: str,
    query: dict[str, str],
    body: Any,
) -> None:
    method, template, operation = route
    path = PATH_PARAM.sub(lambda _: quote(ids, safe="") or "x", template)
    payload = {"json": body} if method in ("POST", "PUT") else {}
    response = api.client.request(method, path, params=query, headers=AUTH, **payload)
    assert "Traceback" not in response.text
    documented = {int(status) for status in operation["responses"]} - {503}
    assert response.status_code in documented | {404}, (method, path, response.text)
    if response.headers["content-type"].startswith("application/json"):
        response.json()
