"""PostgreSQL restarted under two replicas (docs/deployment.md "When the database fails"):
``pg_ctl restart -m fast`` while creates, polls, forced completions and callback attempts
run on two real ``wanmock serve`` processes on the real clock. Every answer is a 200 or a
503 with ``Retry-After``; the replicas reconnect by themselves and listen again, so a key
put through one after the restart works on the other; every acknowledged task is on both,
the ledger is exact, every callback arrives at least once and never early, and each
replica logs the fault once and its end once."""

from __future__ import annotations

import random
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from itertools import cycle
from typing import Any

import httpx
import psycopg
import pytest

from mock_server.testing.receiver import Receiver, Script
from tests.postgres import Cluster, cluster
from tests.server import ServerProcess, running
from tests.test_process_faults import until
from tests.test_replicas import AUTH, BODY, KEY

# The load is bounded: it stops when told, or after this many creates at most.
MAX_CREATES = 2000
# Acknowledged creates wanted before the restart, and again after it.
CREATES_EACH_SIDE = 15


@pytest.fixture(scope="module")
def own_cluster() -> Iterator[Cluster]:
    """A cluster of this module's own: restarting it ends every session in it."""
    with cluster() as started:
        yield started


@pytest.fixture(scope="module")
def receiver() -> Iterator[Receiver]:
    with Receiver(Script.succeed()) as started:
        yield started


@pytest.fixture(scope="module")
def replicas(
    own_cluster: Cluster, receiver: Receiver
) -> Iterator[tuple[ServerProcess, ServerProcess]]:
    db = own_cluster.new_database()
    args = ["--profile", "fast", "--api-key", f"{KEY}=1000000"]
    args += ["--allow-callback-host", "127.0.0.1", "--callback-ca-file", receiver.ca_file]
    with running(*args, db=db) as first, running(*args, db=db) as second:
        yield first, second


@dataclass
class Load:
    """Creates (with a callback URL) on both replicas in turn, a poll of a known task on
    the other after each, and every third task completed now through the other: every
    answer is kept, so the test can say none was a 500."""

    servers: tuple[ServerProcess, ServerProcess]
    callback_url: str
    acknowledged: list[str] = field(default_factory=list)
    answers: list[tuple[str, int, str | None]] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)

    def run(self) -> None:
        pick = random.Random(7)
        clients = [httpx.Client(base_url=s.base_url, timeout=30) for s in self.servers]
        try:
            for n, (this, other) in zip(range(MAX_CREATES), cycle([clients, clients[::-1]])):
                if self.stop.is_set():
                    return
                body = {**BODY, "callback_url": self.callback_url}
                made = self._call("create", this.post, "/v1/videos/generations", json=body)
                if made.status_code == 200:
                    self.acknowledged.append(made.json()["id"])
                if self.acknowledged:
                    known = pick.choice(self.acknowledged)
                    self._call("poll", other.get, f"/v1/tasks/{known}")
                    if n % 3 == 0:
                        self._call("complete", other.post, f"/_mock/tasks/{known}/complete")
        finally:
            for client in clients:
                client.close()

    def _call(self, what: str, method: Any, path: str, **kwargs: Any) -> httpx.Response:
        answer: httpx.Response = method(path, headers=AUTH, **kwargs)
        self.answers.append((what, answer.status_code, answer.headers.get("retry-after")))
        return answer


def listeners(own_cluster: Cluster) -> int:
    """Sessions listening for the replicas' changes (one per replica when all is well)."""
    with psycopg.connect(own_cluster.url(), autocommit=True) as conn:
        row = conn.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE query LIKE 'LISTEN %'"
        ).fetchone()
    return int(row[0]) if row else 0


def listing(server: ServerProcess, path: str, items: str, **params: str) -> list[Any]:
    """Every item of a paged control listing."""
    found: list[Any] = []
    cursor: str | None = None
    while True:
        query = {**params, "limit": "1000"} | ({"cursor": cursor} if cursor else {})
        page = server.client.get(path, params=query).json()
        found += page[items]
        cursor = page["next_cursor"]
        if cursor is None:
            return found


def settled_everywhere(servers: tuple[ServerProcess, ...], task_ids: list[str]) -> bool:
    ended = ("completed", "failed")
    for server in servers:
        tasks = listing(server, "/_mock/tasks", "tasks", key=KEY)
        statuses = {t["task"]["id"]: t["task"]["status"] for t in tasks}
        if any(statuses.get(task_id) not in ended for task_id in task_ids):
            return False
    return True


def delivered(server: ServerProcess, task_ids: list[str]) -> bool:
    states = {
        row["task_id"]: row["state"] for row in listing(server, "/_mock/callbacks", "callbacks")
    }
    return all(states.get(task_id) == "delivered" for task_id in task_ids)


@pytest.fixture(scope="module")
def restarted(
    replicas: tuple[ServerProcess, ServerProcess], receiver: Receiver, own_cluster: Cluster
) -> tuple[tuple[ServerProcess, ServerProcess], Load]:
    """Load on both replicas, the server restarted in the middle of it, the load run on
    until both replicas acknowledged creates again, then stopped."""
    receiver.clear(Script.succeed())
    load = Load(replicas, receiver.url)
    thread = threading.Thread(target=load.run, name="load")
    thread.start()
    try:
        until(lambda: len(load.acknowledged) >= CREATES_EACH_SIDE or not thread.is_alive())
        own_cluster.restart()
        before = len(load.acknowledged)
        until(lambda: len(load.acknowledged) >= before + CREATES_EACH_SIDE)
    finally:
        load.stop.set()
        thread.join(60)
    return replicas, load


def test_pg_restart_answers_only_200_or_503_with_retry_after(
    restarted: tuple[tuple[ServerProcess, ServerProcess], Load],
) -> None:
    _, load = restarted
    odd = [a for a in load.answers if a[1] != 200 and not (a[1] == 503 and a[2])]
    assert odd == []


def test_pg_restart_a_key_put_through_one_replica_after_works_on_the_other(
    restarted: tuple[tuple[ServerProcess, ServerProcess], Load], own_cluster: Cluster
) -> None:
    (first, second), _ = restarted
    until(lambda: listeners(own_cluster) == 2)  # both listen again: no catching up by luck
    put = first.client.put("/_mock/keys", json={"keys": {"sk-after-restart": {"credits": "500"}}})
    assert put.status_code == 200

    def works_on_second() -> bool:
        answer = second.client.post(
            "/v1/videos/generations",
            json=BODY,
            headers={"Authorization": "Bearer sk-after-restart"},
        )
        return answer.status_code == 200

    until(works_on_second, seconds=10)


def test_pg_restart_keeps_every_acknowledged_task_and_the_ledger_exact(
    restarted: tuple[tuple[ServerProcess, ServerProcess], Load],
) -> None:
    servers, load = restarted
    until(lambda: settled_everywhere(servers, load.acknowledged))
    ledger = servers[1].client.get("/_mock/ledger", params={"key": KEY}).json()
    stored = {t["task"]["id"] for t in listing(servers[0], "/_mock/tasks", "tasks", key=KEY)}
    assert set(load.acknowledged) <= stored
    reserves = [e["task_id"] for e in ledger["entries"] if e["kind"] == "reserve"]
    assert sorted(reserves) == sorted(stored)  # one reserve per stored task
    balance = ledger["balances"][KEY]
    charged = sum(float(e["amount"]) for e in ledger["entries"] if e["kind"] == "charge")
    assert balance["reserved"] == "0"
    assert round(float(balance["credits"]) + charged, 6) == 1000000


def test_pg_restart_delivers_every_callback_at_least_once_never_early(
    restarted: tuple[tuple[ServerProcess, ServerProcess], Load], receiver: Receiver
) -> None:
    servers, load = restarted
    until(lambda: delivered(servers[0], load.acknowledged))
    called = {call.json()["id"] for call in receiver.calls}
    assert set(load.acknowledged) <= called
    tasks = listing(servers[1], "/_mock/tasks", "tasks", key=KEY)
    finish = {t["task"]["id"]: t["plan"]["finish"] for t in tasks}
    attempts = servers[0].client.get("/_mock/callbacks", params={"limit": "1000"}).json()
    early = [a for a in attempts["attempts"] if a["attempted_at"] < finish[a["task_id"]]]
    assert early == []


def test_pg_restart_each_replica_logs_a_fault_it_met_once_and_its_end_once(
    restarted: tuple[tuple[ServerProcess, ServerProcess], Load],
) -> None:
    """A replica with nothing in flight at the restart meets no fault and logs nothing."""
    servers, _ = restarted
    for server in servers:
        errors = server.stderr()
        lines = [line for line in errors.splitlines() if line.startswith("store ")]
        assert [line.rsplit(" ", 1)[-1] for line in lines] in (
            [],
            ["recovers", "recovered"],
        ), errors
        assert "Traceback" not in errors
