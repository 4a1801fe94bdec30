"""The store's behaviour, the same for every implementation and every process sharing one:
conditional changes that cannot double-bill or overdraw, numbers no two processes share,
and a change signal that tells one process another wrote."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mock_server.domain import billing
from mock_server.domain.models import CreateRequest, Plan, Task
from mock_server.store.open import open_store
from mock_server.store.protocols import Store
from mock_server.store.records import StoreError

KEY = "sk-test"
D = Decimal
REQUEST = CreateRequest(
    model="wan2.6-reference-video",
    prompt="a",
    video_urls=("https://example.com/a.mp4",),
    aspect_ratio="16:9",
    quality="720p",
    duration=5,
)

Opener = Callable[[], Store]


@pytest.fixture(params=["sqlite-file", "postgresql"])
def opener(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Opener]:
    """Opens the same store again, as another process would (one kind per param)."""
    opened: list[Store] = []
    if request.param == "postgresql":
        db = request.getfixturevalue("postgres_url")
    else:
        db = str(tmp_path / "state.db")

    def make() -> Store:
        store = open_store(db)
        opened.append(store)
        return store

    yield make
    for store in opened:
        store.close()


@pytest.fixture
def store(opener: Opener) -> Store:
    return opener()


def grant(store: Store, credits: str, key: str = KEY) -> None:
    store.put_keys(
        {key: {}}, lambda k, available: billing.credit_grants(k, D(credits), available, 0.0)
    )


def task(number: int, reserved: str = "10") -> Task:
    plan = Plan(created=0.0, start=1.0, finish=2.0)
    return Task(f"task-unified-0-{number:08d}", KEY, REQUEST, plan, D(reserved), D(0), (), 1)


def insert(store: Store, item: Task) -> Task | None:
    return store.insert_task(item, billing.reservation(KEY, item.id, item.reserved, 0.0))


def test_store_reservation_never_overdraws(store: Store) -> None:
    grant(store, "15")
    assert insert(store, task(1)) is not None
    assert insert(store, task(2)) is None
    assert store.get_task(task(2).id) is None
    assert store.balance(KEY) == billing.Balance(D(15), D(5), D(10), D(0))


def test_store_task_reads_back_as_written(store: Store) -> None:
    grant(store, "15")
    written = insert(store, task(1))
    assert store.get_task(task(1).id) == written


def test_store_plan_change_needs_the_version_read(store: Store) -> None:
    grant(store, "15")
    written = insert(store, task(1))
    assert written is not None
    ended = written.plan.ended_at(1.5, "failed", "service_error", "x", "control", 0)
    changed = store.update_plan(written, ended)
    assert changed is not None and changed.plan == ended
    assert store.update_plan(written, written.plan) is None  # stale: someone changed it


def test_store_settles_a_task_once(opener: Opener) -> None:
    first, second = opener(), opener()
    grant(first, "15")
    written = insert(first, task(1))
    assert written is not None
    entries = billing.settlement(KEY, written.id, written.reserved, D(9), 2.0)
    assert first.settle(written, entries) is not None
    assert second.settle(written, entries) is None
    assert second.balance(KEY) == billing.Balance(D(15), D(6), D(0), D(9))


def test_store_task_numbers_are_unique_across_processes(opener: Opener) -> None:
    first, second = opener(), opener()
    numbers = [s.next_task_number() for s in (first, second) * 5]
    assert len(set(numbers)) == 10


def test_store_journal_numbers_rows_of_every_process(opener: Opener) -> None:
    first, second = opener(), opener()
    row = [0, 0.0, KEY, None, "GET", "/v1/tasks/x", 200, 0.1, None, None, None]
    for store in (first, second, first):
        store.append_journal([row, row], keep=100)
    assert [r[0] for r in second.journal()] == [1, 2, 3, 4, 5, 6]


def test_store_rule_use_stops_at_its_times(opener: Opener) -> None:
    first, second = opener(), opener()
    [rule_id] = first.add_rules([{"match": {}, "effect": {}, "times": 3}])
    uses = [s.use_rule(rule_id) for s in (first, second) * 3]
    assert uses.count(True) == 3
    assert second.rules()[0]["used"] == 3


def test_store_callback_attempt_is_claimed_by_one_process(opener: Opener) -> None:
    first, second = opener(), opener()
    grant(first, "15")
    written = insert(first, task(1))
    assert written is not None
    first.settle(written, [], [(written.id, "https://example.com/hook", b"{}", 2.0)])
    claims = [
        s.claim_callback(written.id, 0, name, 1e12, 0.0)
        for s, name in ((first, "a"), (second, "b"))
    ]
    assert claims == [True, False]


def test_store_change_signal_sees_another_process_write(opener: Opener) -> None:
    first, second = opener(), opener()
    second.signal.seen(second.signal.snapshot())
    assert not second.signal.changed()
    grant(first, "1")
    assert eventually(second.signal.changed)  # PostgreSQL's NOTIFY arrives a moment later


def eventually(check: Callable[[], bool], seconds: float = 5.0) -> bool:
    """A bounded wait for something another connection delivers asynchronously."""
    deadline = time.monotonic() + seconds
    while not check():
        if time.monotonic() > deadline:
            return False
        threading.Event().wait(0.002)
    return True


def test_store_tasks_since_lists_what_moved(store: Store) -> None:
    grant(store, "100")
    before = store.state().rev
    written = insert(store, task(1))
    assert [t.id for t in store.tasks_since(before)] == [task(1).id]
    assert written is not None and store.tasks_since(written.rev) == []


def test_store_reset_moves_the_epoch_and_keeps_numbering(store: Store) -> None:
    number = store.next_task_number()
    epoch = store.state().epoch
    store.reset()
    assert store.state().epoch == epoch + 1
    assert store.next_task_number() == number + 1


def test_store_refuses_a_url_it_cannot_use() -> None:
    with pytest.raises(StoreError, match="unknown store scheme"):
        open_store("redis://localhost/0")


OPERATIONS = st.lists(
    st.tuples(
        st.sampled_from(["grant", "reserve", "settle-ok", "settle-failed"]),
        st.decimals(min_value=0, max_value=500, places=2),
    ),
    max_size=25,
)


@settings(max_examples=30, deadline=None)
@given(operations=OPERATIONS)
def test_store_ledger_agrees_with_the_pure_ledger(
    tmp_path_factory: pytest.TempPathFactory, operations: list[tuple[str, Decimal]]
) -> None:
    check_ledger(open_store(str(tmp_path_factory.mktemp("ledger") / "state.db")), operations)


@settings(max_examples=10, deadline=None)
@given(operations=OPERATIONS)
def test_store_ledger_on_postgresql_agrees_with_the_pure_ledger(
    postgres_cluster: Any, operations: list[tuple[str, Decimal]]
) -> None:
    check_ledger(open_store(postgres_cluster.new_database()), operations)


def check_ledger(store: Store, operations: list[tuple[str, Decimal]]) -> None:
    """Every balance after every step equals the pure ledger's (domain/billing.py)."""
    model = billing.Ledger()
    open_tasks: list[Task] = []
    grant(store, "0")  # the key exists, with nothing yet
    try:
        for number, (kind, amount) in enumerate(operations):
            if kind == "grant":
                grant(store, str(amount))
                model.apply(model.set_credits(KEY, amount, 0.0))
            elif kind == "reserve":
                item = replace(task(number), reserved=amount)
                stored = insert(store, item)
                expected_ok = amount <= model.balance(KEY).available
                assert (stored is not None) == expected_ok
                if stored is not None:
                    model.apply([model.reserve(KEY, item.id, amount, 0.0)])
                    open_tasks.append(stored)
            elif open_tasks:
                item = open_tasks.pop(0)
                charge = min(amount, item.reserved) if kind == "settle-ok" else None
                store.settle(item, billing.settlement(KEY, item.id, item.reserved, charge, 1.0))
                model.apply(model.settle(KEY, item.id, item.reserved, charge, 1.0))
            assert store.balance(KEY) == model.balance(KEY)
    finally:
        store.close()


def test_store_pages_read_what_was_written_in_order(store: Store) -> None:
    grant(store, "1000")
    made = [insert(store, replace(task(n), plan=Plan(float(n), 1.0, 10.0 - n))) for n in (1, 2, 3)]
    assert all(made)
    page, cursor = store.page_tasks(limit=2)
    rest, end = store.page_tasks(limit=2, after=cursor)
    assert [t.id for t in page + rest] == [task(n).id for n in (1, 2, 3)] and end is None
    assert [i for i, _ in store.unsettled_after(None, 2)] == [task(3).id, task(2).id]
    first = made[0]
    assert first is not None
    store.settle(first, [], [(first.id, "https://example.com/hook", b"{}", 2.0)])
    assert store.count_settled() == 1
    assert [e.kind for e in store.ledger_after(KEY, None, -1.0, 0, 100)][-3:] == ["reserve"] * 3
    [(position, delivery)] = store.callbacks_page(None, 0, 10)
    assert delivery.task_id == first.id and store.callbacks_page(None, position, 10) == []
    assert store.claim_callback(first.id, 0, "a", 1e12, 0.0)
    attempt = {"number": 1, "attempted_at": 2.0, "status": 500}
    assert store.record_callback_attempt(first.id, "a", attempt, "pending", 3.0)
    assert [a["number"] for a in store.attempts_of([first.id])] == [1]
    assert [a["task_id"] for a in store.attempts_after(KEY, None, (0.0, 0, ""), 10)] == [first.id]
    row = [0, 0.0, KEY, None, "GET", "/v1/tasks/x", 200, 0.1, None, None, None]
    store.append_journal([row, row, row], keep=100)
    assert [r[0] for r in store.journal_page(KEY, None, 1, 10, 100)] == [2, 3]
    assert [r[0] for r in store.journal_rows(KEY)] == [1, 2, 3]


def test_store_purge_removes_old_settled_tasks_and_keeps_their_ledger(store: Store) -> None:
    grant(store, "1000")
    made = [insert(store, replace(task(n), plan=Plan(float(n), 1.0, 5.0 + n))) for n in (1, 2)]
    old, young = made
    assert old is not None and young is not None
    store.settle(old, [], [(old.id, "https://example.com/hook", b"{}", 6.0)])
    row = [0, 0.0, KEY, old.id, "GET", f"/v1/tasks/{old.id}", 200, 0.1, None, None, None]
    other = [0, 0.0, KEY, young.id, "GET", f"/v1/tasks/{young.id}", 200, 0.1, None, None, None]
    store.append_journal([row, other], keep=100)
    ledger = store.ledger_entries(KEY)
    assert store.purge_settled(100.0, 10) == [old.id]
    assert store.get_task(old.id) is None and store.get_task(young.id) is not None
    assert store.callbacks(old.id) == []
    assert store.purge_journal({old.id}) == 1
    assert [r[3] for r in store.journal_rows()] == [young.id]
    assert store.ledger_entries(KEY) == ledger
    assert store.result_kinds() == [
        (REQUEST.model, REQUEST.quality, REQUEST.aspect_ratio, REQUEST.duration, True)
    ]
