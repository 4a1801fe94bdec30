"""Callback delivery: retries at 1/2/4 s, billing first, restarts, claims, the SSRF guard.

Every test but the real-clock one runs on the virtual clock against a real HTTPS receiver
(mock_server/testing/receiver.py) on 127.0.0.1; nothing sleeps.
"""

from __future__ import annotations

import asyncio
import itertools
import socket
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from contracts import facts
from mock_server.api.app import create_app
from mock_server.delivery import attempt as callbacks
from mock_server.delivery.sender import HttpSender
from mock_server.runtime.config import Config
from mock_server.service.fake import Fake
from mock_server.testing.receiver import Receiver, Reply, Script
from mock_server.testing.threaded import ThreadedServer
from tests.conftest import AUTH, BODY, KEY, Api
from tests.server import running

DELAYS = facts.CALLBACK_RETRY_DELAYS


@pytest.fixture(scope="module")
def receiver() -> Iterator[Receiver]:
    with Receiver() as started:
        yield started


@pytest.fixture
def hook(receiver: Receiver) -> Iterator[Receiver]:
    """The module's receiver, emptied, answering 200 until a test scripts it."""
    receiver.clear(Script.succeed())
    receiver.on_call = None
    yield receiver
    receiver.on_call = None


@pytest.fixture
def trusting(hook: Receiver) -> dict[str, Any]:
    """Config that lets callbacks reach the local receiver and trust its CA."""
    return {"allow_callback_host": ("127.0.0.1",), "callback_ca_file": hook.ca_file}


@pytest.fixture
def cb_api(make_api: Callable[..., Api], trusting: dict[str, Any]) -> Api:
    return make_api(**trusting, callback_wall_timeout=0.3)


def finished_task(api: Api, url: str, outcome: str = "complete") -> tuple[str, float]:
    """A task with ``url`` as callback, forced to ``outcome`` now: (id, finish time)."""
    task = api.created(callback_url=url)
    response = api.control("POST", f"/tasks/{task['id']}/{outcome}")
    assert response.status_code == 200, response.text
    return task["id"], response.json()["plan"]["finish"]


def attempts(api: Api, task_id: str) -> list[dict[str, Any]]:
    response = api.control("GET", f"/callbacks?task_id={task_id}")
    assert response.status_code == 200, response.text
    found: list[dict[str, Any]] = response.json()["attempts"]
    return found


def offsets(found: list[dict[str, Any]], start: float) -> list[float]:
    return [round(a["attempted_at"] - start, 6) for a in found]


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# -- the retry paths --------------------------------------------------------------------


def test_callback_success_first_time_is_one_attempt(cb_api: Api, hook: Receiver) -> None:
    task_id, finish = finished_task(cb_api, hook.url)
    cb_api.advance(60)
    found = attempts(cb_api, task_id)
    assert [(a["number"], a["status"], a["outcome"]) for a in found] == [(1, 200, "delivered")]
    assert offsets(found, finish) == [0.0]
    assert hook.call_count == 1


def test_callback_body_is_the_poll_answer_byte_for_byte(cb_api: Api, hook: Receiver) -> None:
    task_id, _ = finished_task(cb_api, hook.url)
    assert hook.last is not None
    assert hook.last.body == cb_api.poll(task_id).content
    assert hook.last.headers["content-type"] == "application/json"
    assert hook.last.json()["status"] == "completed"


def test_callback_fail_twice_then_succeed_is_three_attempts(cb_api: Api, hook: Receiver) -> None:
    hook.clear(Script.fail_first(2, status=503))
    task_id, finish = finished_task(cb_api, hook.url)
    cb_api.advance(60)
    found = attempts(cb_api, task_id)
    assert [a["status"] for a in found] == [503, 503, 200]
    assert offsets(found, finish) == [0, 1, 3]
    assert hook.call_count == 3


def test_callback_always_failing_gets_exactly_four_attempts(cb_api: Api, hook: Receiver) -> None:
    hook.clear(Script.always_fail(status=500))
    task_id, finish = finished_task(cb_api, hook.url)
    cb_api.advance(3600)
    found = attempts(cb_api, task_id)
    assert offsets(found, finish) == [0, 1, 3, 7]
    assert [a["number"] for a in found] == [1, 2, 3, 4]
    view = cb_api.control("GET", f"/callbacks?task_id={task_id}").json()["callbacks"]
    assert view[0]["state"] == "exhausted" and view[0]["next_attempt_at"] is None
    assert hook.call_count == 4


def test_callback_advance_stops_at_its_window(cb_api: Api, hook: Receiver) -> None:
    hook.clear(Script.always_fail())
    task_id, finish = finished_task(cb_api, hook.url)
    cb_api.advance(2.5)
    assert offsets(attempts(cb_api, task_id), finish) == [0, 1]
    cb_api.advance(0.5)
    assert offsets(attempts(cb_api, task_id), finish) == [0, 1, 3]


def test_callback_non_2xx_statuses_are_failures(cb_api: Api, hook: Receiver) -> None:
    hook.clear(Script.statuses(301, 404, 418, then=204))
    task_id, _ = finished_task(cb_api, hook.url)
    cb_api.advance(60)
    assert [a["status"] for a in attempts(cb_api, task_id)] == [301, 404, 418, 204]


def test_callback_timeout_ends_ten_seconds_after_it_began(cb_api: Api, hook: Receiver) -> None:
    hook.clear(Script.slow(5.0, first=1))  # answers after 5 real s; the fake waits 0.3
    task_id, finish = finished_task(cb_api, hook.url)
    cb_api.advance(60)
    first, second = attempts(cb_api, task_id)
    assert first["error_kind"] == "timeout" and first["status"] is None
    assert first["finished_at"] - first["attempted_at"] == facts.CALLBACK_TIMEOUT_SECONDS
    assert second["attempted_at"] - finish == facts.CALLBACK_TIMEOUT_SECONDS + DELAYS[0]
    assert second["status"] == 200


def test_callback_tls_failure_when_the_ca_is_not_trusted(
    make_api: Callable[..., Api], hook: Receiver
) -> None:
    api = make_api(allow_callback_host=("127.0.0.1",))
    task_id, finish = finished_task(api, hook.url)
    api.advance(60)
    found = attempts(api, task_id)
    assert offsets(found, finish) == [0, 1, 3, 7]
    assert {a["error_kind"] for a in found} == {"tls"}
    assert "certificate verify failed" in found[0]["error"]
    assert hook.call_count == 0


def test_callback_refused_connection_is_retried(cb_api: Api, hook: Receiver) -> None:
    task_id, finish = finished_task(cb_api, f"https://127.0.0.1:{closed_port()}/hook")
    cb_api.advance(60)
    found = attempts(cb_api, task_id)
    assert offsets(found, finish) == [0, 1, 3, 7]
    assert {a["error"] for a in found} == {"connect: connection refused"}


@pytest.mark.parametrize("outcome", ["fail", "cancel"])
def test_callback_fires_on_failed_and_cancelled_tasks(
    cb_api: Api, hook: Receiver, outcome: str
) -> None:
    task_id, _ = finished_task(cb_api, hook.url, outcome)
    assert hook.last is not None
    body = hook.last.json()
    assert body["status"] == "failed" and body["id"] == task_id
    assert hook.last.body == cb_api.poll(task_id).content


def test_callback_without_url_queues_nothing(cb_api: Api) -> None:
    task = cb_api.created()
    cb_api.control("POST", f"/tasks/{task['id']}/complete")
    assert cb_api.control("GET", "/callbacks").json() == {
        "callbacks": [],
        "attempts": [],
        "next_cursor": None,
    }


def test_callback_record_names_every_field(cb_api: Api, hook: Receiver) -> None:
    task_id, finish = finished_task(cb_api, hook.url)
    (attempt,) = attempts(cb_api, task_id)
    assert attempt["task_id"] == task_id
    assert attempt["scheduled_at"] == attempt["attempted_at"] == finish
    assert attempt["url"] == hook.url and attempt["address"] == "127.0.0.1"
    assert attempt["error"] is None and attempt["latency_ms"] > 0


def test_callback_is_sent_after_billing_is_confirmed(cb_api: Api, hook: Receiver) -> None:
    store = cb_api.fake.store
    hook.on_call = lambda call: [e.kind for e in store.ledger_entries(KEY)]
    finished_task(cb_api, hook.url)
    assert hook.last is not None
    assert hook.last.note[-2:] == ["release", "charge"]


def test_callback_for_a_failed_task_follows_the_release(cb_api: Api, hook: Receiver) -> None:
    store = cb_api.fake.store
    hook.on_call = lambda call: [e.kind for e in store.ledger_entries(KEY)]
    finished_task(cb_api, hook.url, "fail")
    assert hook.last is not None
    assert hook.last.note[-1] == "release" and "charge" not in hook.last.note


def test_callback_reaching_finish_by_advance_is_delivered_in_the_same_advance(
    cb_api: Api, hook: Receiver
) -> None:
    task = cb_api.created(callback_url=hook.url)
    cb_api.advance(3600)
    assert hook.call_count == 1
    finish = cb_api.control("GET", f"/tasks/{task['id']}").json()["plan"]["finish"]
    assert offsets(attempts(cb_api, task["id"]), finish) == [0.0]


def test_callbacks_are_forgotten_on_reset(cb_api: Api, hook: Receiver) -> None:
    hook.clear(Script.always_fail())
    finished_task(cb_api, hook.url)
    cb_api.control("POST", "/reset")
    cb_api.advance(60)
    assert hook.call_count == 1
    assert cb_api.control("GET", "/callbacks").json()["attempts"] == []


# -- restarts and claims ---------------------------------------------------------------


def run(fake: Fake, seconds: float) -> None:
    asyncio.run(fake.advance(seconds))


def test_callback_schedule_resumes_after_a_restart(
    make_fake: Callable[..., Fake], trusting: dict[str, Any], hook: Receiver, tmp_path: Path
) -> None:
    hook.clear(Script.always_fail())
    db = str(tmp_path / "state.db")
    first = make_fake(db=db, **trusting)
    task = first.create_task(KEY, {**BODY, "callback_url": hook.url})
    task = first.force(task.id, "completed")
    run(first, 1.5)  # attempts 1 and 2; the process then "dies": nothing more runs in it
    second = make_fake(db=db, **trusting)
    run(second, 60)
    found = sorted(second.store.callback_attempts([task.id]), key=lambda a: a["number"])
    assert offsets(found, task.plan.finish) == [0, 1, 3, 7]
    assert hook.call_count == 4


def test_callback_attempt_held_by_a_dead_process_is_taken_over(
    make_fake: Callable[..., Fake], trusting: dict[str, Any], hook: Receiver, tmp_path: Path
) -> None:
    db = str(tmp_path / "state.db")
    first = make_fake(db=db)
    task = first.create_task(KEY, BODY)
    first.store.settle(task, [], [(task.id, hook.url, b"{}", first.now())])
    dead = f"{socket.gethostname()}:{2**22 + 12345}:gone"  # beyond pid_max: never alive
    assert first.store.claim_callback(task.id, 0, dead, 1e12, 0)
    second = make_fake(db=db, **trusting)
    run(second, 0)
    assert hook.call_count == 1
    assert second.store.callbacks(task.id)[0].state == "delivered"


def test_callback_claim_lets_one_of_two_processes_make_an_attempt(
    make_fake: Callable[..., Fake], trusting: dict[str, Any], hook: Receiver, tmp_path: Path
) -> None:
    hook.clear(Script([Reply(500), Reply(500, delay=0.3)], Reply(500)))
    db = str(tmp_path / "state.db")
    first = make_fake(db=db, **trusting)
    task = first.create_task(KEY, {**BODY, "callback_url": hook.url})
    first.force(task.id, "completed")
    run(first, 0)  # attempt 1 fails; attempt 2 is due 1 s later
    second = make_fake(db=db, **trusting)  # shares the database, resumes attempt 2

    async def both() -> None:
        await asyncio.gather(first.advance(1.5), second.advance(1.5))

    asyncio.run(both())
    assert hook.call_count == 2
    assert [a["number"] for a in first.store.callback_attempts([task.id])] == [1, 2]


def test_callback_schedule_survives_kill_9(hook: Receiver, tmp_path: Path) -> None:
    hook.clear(Script.always_fail())
    db = tmp_path / "state.db"
    args = ["--clock", "virtual", "--allow-callback-host", "127.0.0.1"]
    args += ["--callback-ca-file", hook.ca_file]
    with running(*args, db=db) as server:
        client = server.client
        created = client.post(
            "/v1/videos/generations", json={**BODY, "callback_url": hook.url}, headers=AUTH
        )
        task_id = created.json()["id"]
        finish = client.post(f"/_mock/tasks/{task_id}/complete").json()["plan"]["finish"]
        client.post("/_mock/clock/advance", json={"seconds": 1})
        assert hook.call_count == 2
        server.kill()
    with running(*args, db=db) as server:
        server.client.post("/_mock/clock/advance", json={"seconds": 60})
        found = server.client.get(f"/_mock/callbacks?task_id={task_id}").json()["attempts"]
    assert offsets(found, finish) == [0, 1, 3, 7]
    assert hook.call_count == 4


# -- the property ----------------------------------------------------------------------

TOO_SLOW = Reply(200, delay=2.0)  # answers after the fake gave up: a timeout
ANSWERS = st.sampled_from(
    [*map(Reply, [200, 201, 204, 299, 300, 302, 400, 404, 429, 500, 502, 503]), TOO_SLOW]
)


def expected_offsets(answers: list[Reply]) -> list[float]:
    """The rule: attempt 1 at 0; each retry 1, 2, 4 s after the failure before it ends."""
    times: list[float] = []
    at = 0.0
    for number, reply in enumerate(answers[: callbacks.MAX_ATTEMPTS], start=1):
        times.append(at)
        timed_out = reply.delay > 0
        if not timed_out and 200 <= reply.status < 300:
            break
        if number < callbacks.MAX_ATTEMPTS:
            at += (facts.CALLBACK_TIMEOUT_SECONDS if timed_out else 0) + DELAYS[number - 1]
    return times


@pytest.fixture(scope="module")
def sender(receiver: Receiver) -> HttpSender:
    """One sender for every example, so its TLS context (about 90 ms) loads once."""
    config = Config(allow_callback_host=("127.0.0.1",), callback_ca_file=receiver.ca_file)
    return HttpSender(config)


@settings(max_examples=25, deadline=None)
@given(answers=st.lists(ANSWERS, min_size=1, max_size=5))
def test_callback_attempt_times_follow_the_retry_rule(
    receiver: Receiver, sender: HttpSender, answers: list[Reply]
) -> None:
    receiver.clear(Script(list(answers), Reply(200)))
    receiver.on_call = None
    allowed = ("127.0.0.1",)  # for create; the shared sender trusts the receiver's CA
    config = Config(
        # 1 s: a busy machine may take a few hundred ms to answer at all; TOO_SLOW is 2 s
        db=":memory:",
        clock="virtual",
        allow_callback_host=allowed,
        callback_wall_timeout=1.0,
    )
    fake = Fake(config)
    fake.outbox.sender = sender
    try:
        task = fake.create_task(KEY, {**BODY, "callback_url": receiver.url})
        task = fake.force(task.id, "completed")
        run(fake, 100)
        found = sorted(fake.store.callback_attempts([task.id]), key=lambda a: a["number"])
        assert offsets(found, task.plan.finish) == expected_offsets([*answers, Reply(200)])
    finally:
        fake.store.close()


# -- the fake keeps answering while a delivery is in flight ----------------------------


@pytest.fixture
def served(trusting: dict[str, Any], request: pytest.FixtureRequest) -> Iterator[str]:
    """The fake on a real port (uvicorn on a thread); the clock mode from the test."""
    clock, scale = getattr(request, "param", ("virtual", 1.0))
    config = Config(
        db=":memory:", clock=clock, time_scale=scale, callback_wall_timeout=5, **trusting
    )
    server = ThreadedServer(create_app(config))
    port = server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


def query_task_from_the_webhook(base: str) -> Callable[[Any], Any]:
    async def query(call: Any) -> tuple[int, bytes]:
        task_id = call.json()["id"]
        async with httpx.AsyncClient(base_url=base, timeout=5) as client:
            answer = await client.get(f"/v1/tasks/{task_id}", headers=AUTH)
            await client.get("/_mock/health")
        return answer.status_code, answer.content

    return query


@pytest.mark.parametrize("served", [("virtual", 1.0), ("stepped", 1.0)], indirect=True)
def test_callback_receiver_may_query_the_fake_before_it_answers(
    served: str, hook: Receiver
) -> None:
    hook.on_call = query_task_from_the_webhook(served)
    with httpx.Client(base_url=served, timeout=10) as client:
        created = client.post(
            "/v1/videos/generations", json={**BODY, "callback_url": hook.url}, headers=AUTH
        )
        task_id = created.json()["id"]
        client.post(f"/_mock/tasks/{task_id}/complete")
        (attempt,) = client.get(f"/_mock/callbacks?task_id={task_id}").json()["attempts"]
    assert attempt["outcome"] == "delivered"
    assert attempt["latency_ms"] < 2000
    assert hook.last is not None
    assert hook.last.note == (200, hook.last.body)


@pytest.mark.slow  # the real clock: retries 1, 2 and 4 s apart at 4x speed
@pytest.mark.parametrize("served", [("real", 4.0)], indirect=True)
def test_callback_real_clock_retries_on_time(served: str, hook: Receiver) -> None:
    hook.clear(Script.always_fail())
    with httpx.Client(base_url=served, timeout=10) as client:
        created = client.post(
            "/v1/videos/generations", json={**BODY, "callback_url": hook.url}, headers=AUTH
        )
        client.post(f"/_mock/tasks/{created.json()['id']}/complete")
        assert hook.wait_for_calls(4, timeout=10)
    times = [call.received_at for call in hook.calls]
    gaps = [later - earlier for earlier, later in itertools.pairwise(times)]
    # 0.25, 0.5 and 1 s apart; a loaded 2-core machine can be a tenth of a second late
    assert gaps == pytest.approx([d / 4.0 for d in DELAYS], abs=0.15)


# -- the SSRF guard, at create and at delivery ------------------------------------------

HOSTILE_URLS = [
    "http://example.com/hook",  # not https
    "https://example.com/" + "a" * 2048,  # too long
    "https://127.0.0.1/hook",
    "https://127.0.0.1:8443/hook",
    "https://127.1/",
    "https://127.0.1.3/",
    "https://0/",
    "https://0.0.0.0/",
    "https://10.0.0.1/",
    "https://172.16.0.1/",
    "https://172.31.255.254/",
    "https://192.168.1.1/",
    "https://169.254.169.254/latest/meta-data/",
    "https://169.254.170.2/v2/credentials",
    "https://100.64.0.1/",
    "https://100.100.100.200/latest/meta-data/",
    "https://192.0.0.192/latest/",
    "https://224.0.0.1/",
    "https://239.255.255.250/",
    "https://240.0.0.1/",
    "https://255.255.255.255/",
    "https://192.0.2.1/",
    "https://198.18.0.1/",
    "https://[::1]/",
    "https://[::]/",
    "https://[0:0:0:0:0:0:0:1]/",
    "https://[fe80::1]/",
    "https://[fe80::1%25eth0]/",
    "https://[fc00::1]/",
    "https://[fd00:ec2::254]/",
    "https://[ff02::1]/",
    "https://[::ffff:127.0.0.1]/",
    "https://[::ffff:7f00:1]/",
    "https://[::ffff:169.254.169.254]/",
    "https://[::ffff:10.0.0.1]/",
    "https://[::127.0.0.1]/",
    "https://[64:ff9b::7f00:1]/",
    "https://[2002:7f00:1::]/",
    "https://2130706433/",
    "https://017700000001/",
    "https://0x7f000001/",
    "https://0x7f.0.0.1/",
    "https://0177.0.0.1/",
    "https://0x7f.1/",
    "https://127.0.0.1./",
    "https://127。0。0。1/",
    "https://localhost/",
    "https://LOCALHOST/",
    "https://localhost./",
    "https://api.localhost/",
    "https://localhost.localdomain/",
    "https://ip6-localhost/",
    "https://metadata.google.internal/computeMetadata/v1/",
    "https://metadata/",
    "https://instance-data/latest/",
    "https://printer.local/",
    "https://localtest.me/",
    "https://127.0.0.1.nip.io/",
    "https://10-0-0-1.sslip.io/",
    "https://user:pass@127.0.0.1/",
    "https://example.com@10.0.0.1/",
    f"https://{socket.gethostname()}/",  # the machine's own name (hosts file)
]


@pytest.mark.parametrize("url", HOSTILE_URLS)
def test_callback_hostile_url_is_refused_at_create(api: Api, url: str) -> None:
    response = api.create(callback_url=url)
    assert response.status_code == 400, url
    error = response.json()["error"]
    assert (error["param"], error["type"]) == ("callback_url", "invalid_request_error")


@pytest.mark.parametrize("url", HOSTILE_URLS)
def test_callback_hostile_url_is_refused_at_delivery(url: str) -> None:
    sender = HttpSender(Config())
    answer = asyncio.run(sender.send(url, b"{}", 1, wall_limit=2))
    assert answer.kind == "refused", (url, answer)
    assert answer.address is None  # no connection was made


def test_callback_host_allowed_at_create_but_not_at_delivery_is_refused(
    make_fake: Callable[..., Fake], trusting: dict[str, Any], hook: Receiver, tmp_path: Path
) -> None:
    db = str(tmp_path / "state.db")
    first = make_fake(db=db, **trusting)
    task = first.create_task(KEY, {**BODY, "callback_url": hook.url})
    second = make_fake(db=db, callback_ca_file=hook.ca_file)  # restarted without the allowance
    second.force(task.id, "completed")
    run(second, 60)
    found = second.store.callback_attempts([task.id])
    assert len(found) == 4 and {a["error_kind"] for a in found} == {"refused"}
    assert hook.call_count == 0


def test_callback_public_url_is_accepted_at_create(api: Api) -> None:
    assert api.create(callback_url="https://hooks.example.com/wan?x=1").status_code == 200


def test_callback_listing_pages_return_every_delivery_and_attempt_once(
    cb_api: Api, hook: Receiver
) -> None:
    cb_api.fake.put_keys({"sk-wanmock-test": {"credits": "1000000"}})
    ids = [finished_task(cb_api, hook.url)[0] for _ in range(5)]
    deliveries, numbers, cursor = [], [], None
    while True:
        params = {"limit": "2", **({"cursor": cursor} if cursor else {})}
        body = cb_api.control("GET", "/callbacks", params=params).json()
        deliveries += [d["task_id"] for d in body["callbacks"]]
        numbers += [(a["task_id"], a["number"]) for a in body["attempts"]]
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert deliveries == ids
    assert sorted(numbers) == sorted((task_id, 1) for task_id in ids)
