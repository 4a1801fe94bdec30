"""One fake across processes: ``wanmock serve`` processes sharing one SQLite file agree on
every task, credit, rule and instant, and never hand out the same id."""

from __future__ import annotations

import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.server import ServerProcess, running

# Real processes sharing a file, polled against wall-clock deadlines.
pytestmark = pytest.mark.slow

KEY = "sk-wanmock-test"
AUTH = {"Authorization": f"Bearer {KEY}"}
BODY = {
    "model": "wan2.6-reference-video",
    "prompt": "A person dancing",
    "video_urls": ["https://example.com/ref.mp4"],
}
# The default request reserves 47.6 credits (SOURCES.md "Billing"): 100 covers two.
CREDITS = "100"


# How long a change made on one PostgreSQL replica may take to reach another's poll on a
# busy machine (it is about a millisecond on a quiet one).
NOTIFY_BOUND_SECONDS = 5


@pytest.fixture(params=["sqlite", "postgresql"])
def pair(
    request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[tuple[ServerProcess, ServerProcess]]:
    """Two ``wanmock serve`` processes on one store: a SQLite file, or one PostgreSQL
    database (two replicas on two ports)."""
    db = (
        tmp_path / "state.db"
        if request.param == "sqlite"
        else request.getfixturevalue("postgres_url")
    )
    args = ["--clock", "virtual", "--api-key", f"{KEY}={CREDITS}"]
    with running(*args, db=db) as first, running(*args, db=db) as second:
        yield first, second


def create(server: ServerProcess, body: dict[str, Any] = BODY) -> httpx.Response:
    return server.client.post("/v1/videos/generations", json=body, headers=AUTH)


def poll(server: ServerProcess, task_id: str) -> dict[str, Any]:
    answer = server.client.get(f"/v1/tasks/{task_id}", headers=AUTH)
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


def test_processes_task_created_in_one_polls_in_the_other(
    pair: tuple[ServerProcess, ServerProcess],
) -> None:
    first, second = pair
    task = create(first).json()
    assert poll(second, task["id"])["id"] == task["id"]


def test_processes_advance_in_one_is_seen_in_the_other(
    pair: tuple[ServerProcess, ServerProcess],
) -> None:
    first, second = pair
    task = create(second).json()
    poll(second, task["id"])  # cached there, pending
    first.client.post("/_mock/clock/advance", json={"seconds": 3600})
    assert second.client.get("/_mock/clock").json() == first.client.get("/_mock/clock").json()
    assert poll(second, task["id"])["status"] == "completed"


def test_processes_forced_outcome_shows_in_the_others_next_poll(
    pair: tuple[ServerProcess, ServerProcess], request: pytest.FixtureRequest
) -> None:
    first, second = pair
    task = create(first).json()
    assert poll(second, task["id"])["status"] == "pending"
    first.client.post(f"/_mock/tasks/{task['id']}/fail", json={"code": "content_policy_violation"})
    seen = poll(second, task["id"])
    if request.node.callspec.params["pair"] == "postgresql":
        # A replica's poll trusts its change signal, a notification that arrives a moment
        # after the other's commit (docs/deployment.md): the change shows within a bound.
        deadline = time.monotonic() + NOTIFY_BOUND_SECONDS
        while seen["status"] == "pending" and time.monotonic() < deadline:
            seen = poll(second, task["id"])
    assert (seen["status"], seen["error"]["code"]) == ("failed", "content_policy_violation")


def test_processes_concurrent_creates_for_one_key_never_overdraw(
    pair: tuple[ServerProcess, ServerProcess],
) -> None:
    servers = [pair[i % 2] for i in range(10)]
    with ThreadPoolExecutor(10) as pool:
        answers = list(pool.map(lambda s: create(s).status_code, servers))
    assert sorted(answers) == [200, 200] + [402] * 8
    ledger = pair[1].client.get("/_mock/ledger", params={"key": KEY}).json()
    balance = {name: Decimal(value) for name, value in ledger["balances"][KEY].items()}
    assert balance["credits"] == Decimal("100") - 2 * Decimal("47.6")
    assert balance["granted"] == balance["credits"] + balance["reserved"] + balance["charged"]
    reserves = [e for e in ledger["entries"] if e["kind"] == "reserve"]
    assert len(reserves) == 2


def test_processes_ledger_balances_exactly_after_settling_in_both(
    pair: tuple[ServerProcess, ServerProcess],
) -> None:
    first, second = pair
    made = [create(first).json()["id"], create(second).json()["id"]]
    second.client.post(f"/_mock/tasks/{made[0]}/fail")
    first.client.post("/_mock/clock/advance", json={"seconds": 3600})
    for server in pair:
        ledger = server.client.get("/_mock/ledger", params={"key": KEY}).json()
        kinds = sorted(e["kind"] for e in ledger["entries"] if e["task_id"] in made)
        assert kinds == ["charge", "release", "release", "reserve", "reserve"]
        assert ledger["balances"][KEY]["credits"] == str(Decimal("100") - Decimal("47.6"))


def test_processes_journal_holds_every_request_from_both(
    pair: tuple[ServerProcess, ServerProcess],
) -> None:
    first, second = pair
    made = {create(first).json()["id"], create(second).json()["id"]}
    for task_id in made:
        poll(first, task_id)
        poll(second, task_id)
    deadline = time.monotonic() + 10  # each process writes its journal every 0.05 s
    while True:
        journal = first.client.get("/_mock/requests").json()["requests"]
        if len(journal) >= 6 or time.monotonic() > deadline:
            break
    assert sorted(e["method"] for e in journal) == ["GET"] * 4 + ["POST"] * 2
    assert {e["task_id"] for e in journal} == made
    assert len({e["seq"] for e in journal}) == 6


def test_processes_sharing_a_store_and_a_seed_never_hand_out_one_id(tmp_path: Path) -> None:
    db = tmp_path / "state.db"
    args = ["--clock", "virtual", "--seed", "7", "--api-key", f"{KEY}=100000"]
    with running(*args, db=db) as first, running(*args, db=db) as second:
        ids = [create(server).json()["id"] for server in [first, second] * 10]
    assert len(set(ids)) == 20


def test_instances_started_together_hand_out_distinct_ids() -> None:
    with running("--clock", "virtual") as first, running("--clock", "virtual") as second:
        assert create(first).json()["id"] != create(second).json()["id"]
        assert "seed" in first.banner[2] and first.banner[2] != second.banner[2]


def test_instances_with_one_seed_reproduce_one_another() -> None:
    args = ("--clock", "virtual", "--seed", "42")
    with running(*args) as first, running(*args) as second:
        mine, theirs = create(first).json(), create(second).json()
    assert mine["id"].rsplit("-", 1)[1] == theirs["id"].rsplit("-", 1)[1]


def test_workers_serve_one_fake_through_fresh_connections(tmp_path: Path) -> None:
    args = ["--clock", "virtual", "--workers", "2", "--api-key", f"{KEY}=100000"]
    with running(*args, db=tmp_path / "state.db") as server:
        ids = []
        # Workers load after the banner (their connections wait in the listen queue): a
        # loaded machine may take seconds, hence the generous timeout.
        for _ in range(8):  # a new connection each time: the kernel spreads them over workers
            with httpx.Client(base_url=server.base_url, timeout=60) as client:
                created = client.post("/v1/videos/generations", json=BODY, headers=AUTH)
                assert created.status_code == 200, (created.text, server.stderr())
                ids.append(created.json())
        with httpx.Client(base_url=server.base_url, timeout=60) as client:
            client.post("/_mock/clock/advance", json={"seconds": 3600})
        statuses = []
        for task in ids:
            with httpx.Client(base_url=server.base_url, timeout=60) as client:
                statuses.append(client.get(f"/v1/tasks/{task['id']}", headers=AUTH).json())
    assert len({t["id"] for t in ids}) == 8
    assert [s["status"] for s in statuses] == ["completed"] * 8


def test_workers_need_a_store_file() -> None:
    with pytest.raises(RuntimeError, match="needs a --db file"), running("--workers", "2"):
        pass
