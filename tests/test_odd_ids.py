"""A malformed id in any path parameter of any route gets the answer an unknown id gets
there (404; 400 where the route checks the id's form; 403 for an unsigned result), on
every store: never a 5xx from a store that cannot hold or compare what the client sent
(PostgreSQL text cannot hold NUL). The routes are read from the app, so a new route is
covered as it is added."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from starlette.routing import BaseRoute, Mount, Route

from mock_server.api.app import create_app
from mock_server.runtime.config import Config
from tests.conftest import AUTH, Api

# Written as they go on the wire: percent-encoded where a client would encode.
ODD_IDS = [
    "%00",
    "task-unified-1796409996-abcdefgh%00",
    "rule-1%00",
    "x" * 4000,
    quote("ünï-çødé-😀-\u202e", safe=""),
    "%2F",
    "a%2Fb",
    "%2E%2E",
    ".",
    "...",
    "%20",
    "-",
    "0",
    "rule-",
    "rule-0",
    "rule-99999999999999999999999",
    quote("rule-²", safe=""),
    "%FF%FE",
    "%C0%AF",
    quote("\t\r\n", safe=""),
    "%25",
]
UNKNOWN = "unknown"
PARAM = re.compile(r"\{([a-z_]+)(?::path)?\}")


def walk(routes: list[BaseRoute], prefix: str = "") -> Iterator[tuple[str, str]]:
    """(method, path template) of every route with a path parameter."""
    for route in routes:
        if isinstance(route, Mount):
            yield from walk(route.routes, prefix + route.path)
        elif isinstance(route, Route) and route.param_convertors:
            for method in sorted((route.methods or set()) - {"HEAD"}):
                yield method, prefix + route.path


ROUTES = sorted(set(walk(create_app(Config(db=":memory:", clock="virtual")).routes)))


@pytest.fixture(params=["sqlite-file", "postgresql"])
def store_api(request: pytest.FixtureRequest, make_api: Callable[..., Api], tmp_path: Path) -> Api:
    if request.param == "postgresql":
        db = request.getfixturevalue("postgres_url")
    else:
        db = str(tmp_path / "wanmock.db")
    return make_api(db=db, media_dir=str(tmp_path / "media"))


def fill(template: str, param: str, value: str) -> str:
    """The template with ``param`` set to ``value`` and any other parameter unknown."""
    return PARAM.sub(lambda m: value if m.group(1) == param else UNKNOWN, template)


def call(api: Api, method: str, path: str) -> Any:
    return api.client.request(method, path, headers=AUTH, follow_redirects=False)


def test_odd_ids_cover_every_route_with_a_path_parameter() -> None:
    assert {path for _, path in ROUTES} >= {
        "/v1/tasks/{task_id:path}",
        "/_mock/tasks/{task_id}",
        "/_mock/tasks/{task_id}/complete",
        "/_mock/tasks/{task_id}/fail",
        "/_mock/tasks/{task_id}/cancel",
        "/_mock/scenarios/{rule_id}",
        "/api/v1/files/{file_id}",
        "/api/v1/files/download/{file_id}",
    }


@pytest.mark.parametrize(("method", "template"), ROUTES)
def test_odd_ids_are_answered_as_an_unknown_id(store_api: Api, method: str, template: str) -> None:
    for param in PARAM.findall(template):
        expected = call(store_api, method, fill(template, param, UNKNOWN)).status_code
        assert expected in (400, 403, 404), (method, template)
        for odd in ODD_IDS:
            path = fill(template, param, odd)
            answer = call(store_api, method, path)
            assert "Traceback" not in answer.text
            if "%2F" in odd or odd.startswith("."):  # another path (a client removes dot
                assert answer.status_code < 500, (method, path, answer.text)  # segments)
            else:
                assert answer.status_code == expected, (method, path, answer.text)


def test_odd_ids_lose_nothing_already_stored(store_api: Api) -> None:
    task = store_api.created()
    for odd in ODD_IDS:
        call(store_api, "POST", f"/_mock/tasks/{odd}/cancel")
        call(store_api, "DELETE", f"/_mock/scenarios/{odd}")
    assert store_api.status(task["id"]) == task


def handlers(routes: list[BaseRoute]) -> Iterator[object]:
    """The ASGI app of every route with a path parameter (what the guard wraps)."""
    for route in routes:
        if isinstance(route, Mount):
            yield from handlers(route.routes)
        elif isinstance(route, Route) and route.param_convertors:
            yield route.app


def test_path_params_are_guarded_once_however_many_apps_are_built() -> None:
    """A fake per test builds an app per test: its routes are not wrapped again each time
    (a call would go through one more wrapper per fake built before it)."""
    config = Config(db=":memory:", clock="virtual")
    first = list(handlers(create_app(config).routes))
    again = list(handlers(create_app(config).routes))
    assert again == first
