"""The HTTPS callback receiver: scripts, the record, its own routes, the CLI."""

from __future__ import annotations

import json
import ssl
import subprocess
import sys
from collections.abc import Iterator

import httpx
import pytest

from mock_server.testing.receiver import Receiver, Reply, Script


@pytest.fixture(scope="module")
def started() -> Iterator[Receiver]:
    with Receiver() as receiver:
        yield receiver


@pytest.fixture
def receiver(started: Receiver) -> Iterator[Receiver]:
    started.clear(Script.succeed())
    yield started
    started.on_call = None


def post(receiver: Receiver, body: bytes = b"{}", timeout: float = 5) -> int:
    with httpx.Client(verify=receiver.client_context(), timeout=timeout) as client:
        return client.post(receiver.url, content=body).status_code


def test_receiver_records_what_it_receives(receiver: Receiver) -> None:
    assert post(receiver, b'{"id": "task-1"}') == 200
    call = receiver.last
    assert call is not None and receiver.called and receiver.call_count == 1
    assert (call.number, call.method, call.path) == (1, "POST", "/callback")
    assert call.json() == {"id": "task-1"}
    assert call.headers["content-length"] == "16" and call.answered == 200


def test_receiver_url_is_https_on_loopback(receiver: Receiver) -> None:
    assert receiver.url == f"https://127.0.0.1:{receiver.port}/callback"


def test_receiver_fails_the_first_n_then_succeeds(receiver: Receiver) -> None:
    receiver.clear(Script.fail_first(2, status=503))
    assert [post(receiver) for _ in range(4)] == [503, 503, 200, 200]


def test_receiver_always_fails(receiver: Receiver) -> None:
    receiver.clear(Script.always_fail(502))
    assert [post(receiver) for _ in range(3)] == [502, 502, 502]


def test_receiver_answers_statuses_in_order(receiver: Receiver) -> None:
    receiver.clear(Script.statuses(429, 301, then=204))
    assert [post(receiver) for _ in range(4)] == [429, 301, 204, 204]


def test_receiver_slow_answer_outlasts_a_short_timeout(receiver: Receiver) -> None:
    receiver.clear(Script.slow(3.0, first=1))
    with pytest.raises(httpx.ReadTimeout):
        post(receiver, timeout=0.2)
    assert post(receiver) == 200
    assert receiver.wait_for_calls(2, timeout=1)
    assert receiver.calls[0].answered is None  # the client left before the answer


def test_receiver_certificate_is_trusted_only_through_its_ca(receiver: Receiver) -> None:
    with (
        httpx.Client(timeout=5) as client,
        pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"),
    ):
        client.post(receiver.url, content=b"{}")
    with httpx.Client(verify=receiver.client_context(), timeout=5) as client:
        assert client.post(receiver.url.replace("127.0.0.1", "localhost")).status_code == 200


def test_receiver_hook_runs_before_it_answers(receiver: Receiver) -> None:
    receiver.on_call = lambda call: receiver.call_count
    post(receiver)
    assert receiver.last is not None and receiver.last.note == 1


def test_receiver_async_hook_result_is_kept(receiver: Receiver) -> None:
    async def hook(call: object) -> str:
        return "seen"

    receiver.on_call = hook
    post(receiver)
    assert receiver.last is not None and receiver.last.note == "seen"


def test_receiver_control_routes_show_set_and_clear(receiver: Receiver) -> None:
    with httpx.Client(base_url=receiver.base_url, verify=receiver.client_context()) as client:
        put = client.put("/_receiver/script", json={"fail_first": 1, "fail_status": 500})
        assert put.json() == {"status": "ok"}
        assert client.post("/callback", content=b"{}").status_code == 500
        assert client.post("/callback", content=b"{}").status_code == 200
        calls = client.get("/_receiver/calls").json()["calls"]
        assert [c["answered"] for c in calls] == [500, 200]
        assert client.delete("/_receiver/calls").json() == {"calls": []}
        assert client.put("/_receiver/script", content=b"[").status_code == 400
        assert client.get("/_receiver/nothing").status_code == 404
    assert receiver.call_count == 0


def test_receiver_script_from_json_reads_the_cli_fields() -> None:
    script = Script.from_json({"statuses": [418], "fail_first": 1, "status": 201, "delay": 0.5})
    assert [script.next() for _ in range(3)] == [Reply(418, 0.5), Reply(500, 0.5), Reply(201, 0.5)]
    assert Script.from_json({"always_fail": True, "fail_status": 503}).next() == Reply(503)


def test_receiver_wait_for_calls_gives_up(receiver: Receiver) -> None:
    assert receiver.wait_for_calls(1, timeout=0.01) is False


def test_receiver_cli_prints_its_url_and_ca_file(tmp_path: object) -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "mock_server", "receiver", "--fail-first", "1"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        lines = [process.stdout.readline() for _ in range(4)]
        url = lines[0].rsplit(" at ", 1)[1].strip()
        ca_file = lines[1].split("CA file: ", 1)[1].strip()
        assert "--allow-callback-host 127.0.0.1" in lines[2]
        context = ssl.create_default_context(cafile=ca_file)
        with httpx.Client(verify=context, timeout=5) as client:
            assert client.post(url, content=b'{"id": 1}').status_code == 500
            assert client.post(url, content=b'{"id": 2}').status_code == 200
        printed = json.loads(process.stdout.readline())
        assert (printed["number"], printed["body"]) == (1, '{"id": 1}')
    finally:
        process.terminate()
        process.wait(10)
        if process.stdout is not None:
            process.stdout.close()
