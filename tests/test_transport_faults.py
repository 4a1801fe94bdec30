"""Transport faults as scenario effects, on a real port (mock_server/api/faulty.py)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from mock_server.domain.errors import ApiError
from mock_server.domain.rules import parse_effect
from mock_server.runtime.config import Config
from mock_server.testing.embedded import ServerThread
from tests.conftest import AUTH, BODY

CREATE = {"method": "POST", "path": "/v1/videos/generations"}


@pytest.fixture(scope="module")
def server() -> Iterator[ServerThread]:
    thread = ServerThread(Config(db=":memory:", clock="virtual"))
    yield thread
    thread.close()


def create(server: ServerThread, timeout: float = 5) -> httpx.Response:
    return httpx.post(
        f"{server.base_url}/v1/videos/generations", json=BODY, headers=AUTH, timeout=timeout
    )


def fault(server: ServerThread, effect: dict[str, Any], match: dict[str, str] = CREATE) -> None:
    server.reset()
    server.add_scenario({"match": match, "effect": effect, "times": 1})


def test_transport_drop_closes_before_any_byte_and_makes_no_task(server: ServerThread) -> None:
    fault(server, {"drop_connection": True})
    with pytest.raises(httpx.RemoteProtocolError, match="without sending a response"):
        create(server)
    assert server.tasks() == [] and create(server).status_code == 200


def test_transport_reset_mid_body_makes_the_task_the_client_never_saw(
    server: ServerThread,
) -> None:
    fault(server, {"reset_connection": True})
    with pytest.raises((httpx.ReadError, httpx.RemoteProtocolError)):
        create(server)
    [entry] = server.requests()
    assert entry["status"] == 200 and len(server.tasks()) == 1
    assert any("reset halfway" in note for note in entry["notes"])


def test_transport_truncated_poll_body_is_cut_short(server: ServerThread) -> None:
    task = create(server).json() if not server.reset() else None
    assert task is not None
    server.add_scenario({"match": {"method": "GET"}, "effect": {"truncate_body": True}, "times": 1})
    with pytest.raises(httpx.RemoteProtocolError):
        httpx.get(f"{server.base_url}/v1/tasks/{task['id']}", headers=AUTH)
    assert httpx.get(f"{server.base_url}/v1/tasks/{task['id']}", headers=AUTH).status_code == 200


def test_transport_hang_outlasts_the_clients_timeout(server: ServerThread) -> None:
    fault(server, {"hang_seconds": 1})
    with pytest.raises(httpx.ReadTimeout):
        create(server, timeout=0.2)
    assert server.tasks() == []


@pytest.mark.parametrize(
    ("effect", "param"),
    [
        ({"hang_seconds": -1}, "effect.hang_seconds"),
        ({"reset_connection": 1}, "effect.reset_connection"),
    ],
)
def test_transport_bad_fault_is_a_400_naming_it(effect: dict[str, Any], param: str) -> None:
    with pytest.raises(ApiError) as caught:
        parse_effect(effect)
    assert caught.value.param == param
