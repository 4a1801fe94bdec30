"""The store's behaviour, the same for every implementation and every process sharing one:
conditional changes that cannot double-bill or overdraw, numbers no two processes share,
and a change signal that tells one process another wrote."""

from __future__ import annotations

import ast
import functools
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
from mock_server.domain.models import CreateRequest, FileRecord, Plan, Task
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
    assert [r[0] for r in second.journal_rows()] == [1, 2, 3, 4, 5, 6]


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
    first, second = opener(), opener()  # the first made the database, the second found it
    for writer, reader in ((first, second), (second, first)):
        assert eventually(functools.partial(quiet, reader))  # its listener read all before
        grant(writer, "1")
        assert eventually(reader.signal.changed)  # PostgreSQL's NOTIFY arrives a moment later


def quiet(store: Store) -> bool:
    """Everything signalled so far marked seen, and nothing new since."""
    store.signal.seen(store.signal.snapshot())
    return not store.signal.changed()


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
    written = insert(store, task(1))
    assert written is not None
    before = store.state().rev
    ended = written.plan.ended_at(1.5, "failed", "service_error", "x", "control", 0)
    changed = store.update_plan(written, ended)
    assert [t.id for t in store.tasks_since(before)] == [task(1).id]
    assert changed is not None and store.tasks_since(changed.rev) == []


def test_store_create_moves_no_rev(store: Store) -> None:
    grant(store, "100")
    before = store.state().rev
    insert(store, task(1))
    assert store.state().rev == before and store.tasks_since(before) == []


def test_store_changes_move_with_a_create(store: Store) -> None:
    grant(store, "100")
    before = store.changes()
    insert(store, task(1))
    assert store.changes() > before


def test_store_unsettled_until_lists_only_what_ends_by_then(store: Store) -> None:
    grant(store, "1000")
    for n in (1, 2, 3):
        insert(store, replace(task(n), plan=Plan(0.0, 1.0, float(n))))
    assert [i for i, _ in store.unsettled_after(None, 10, until=2.0)] == [task(1).id, task(2).id]


def test_store_reset_moves_the_epoch_and_keeps_numbering(store: Store) -> None:
    number = store.next_task_number()
    epoch = store.state().epoch
    store.reset()
    assert store.state().epoch == epoch + 1
    assert store.next_task_number() == number + 1


def test_store_on_a_file_or_a_server_is_shared(store: Store) -> None:
    assert store.shared


def test_store_in_memory_is_this_process_alone() -> None:
    store = open_store(":memory:")
    try:
        assert not store.shared
    finally:
        store.close()


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
    assert store.get_task(first.id).settled  # type: ignore[union-attr]
    assert [e.kind for e in store.ledger_after(KEY, None, -1.0, 0, 100)][-3:] == ["reserve"] * 3
    [delivery] = store.callbacks(after=0, limit=10)
    assert delivery.task_id == first.id and store.callbacks(after=delivery.position) == []
    assert store.claim_callback(first.id, 0, "a", 1e12, 0.0)
    attempt = {"number": 1, "attempted_at": 2.0, "status": 500}
    assert store.record_callback_attempt(first.id, "a", attempt, "pending", 3.0)
    assert [a["number"] for a in store.callback_attempts([first.id])] == [1]
    past = store.callback_attempts(key=KEY, after=(0.0, 0, ""), limit=10)
    assert [a["task_id"] for a in past] == [first.id]
    assert store.callback_attempts(key=KEY, after=(2.0, 1, first.id)) == []
    assert store.callback_attempts(key="another-key") == []
    row = [0, 0.0, KEY, None, "GET", "/v1/tasks/x", 200, 0.1, None, None, None]
    store.append_journal([row, row, row], keep=100)
    assert [r[0] for r in store.journal_rows(after=1)] == [2, 3]
    assert [r[0] for r in store.journal_rows()] == [1, 2, 3]


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


def test_store_state_is_decided_by_the_first_process(opener: Opener) -> None:
    first, second = opener(), opener()
    first.init_state(clock_start=1.0, seed=7, secret="aa")
    decided = second.init_state(clock_start=2.0, seed=8, secret="bb")
    assert (decided.clock_start, decided.seed, decided.secret) == (1.0, 7, "aa")
    second.init_state(clock_start=3.0, seed=9, secret="cc", keep_seed=False)
    assert (first.state().clock_start, first.state().seed) == (1.0, 9)


def test_store_scenario_file_is_loaded_by_one_process(opener: Opener) -> None:
    first, second = opener(), opener()
    assert [first.mark_scenarios_loaded(), second.mark_scenarios_loaded()] == [True, False]
    assert first.state().scenarios_loaded


def test_store_clock_moves_forward_only(opener: Opener) -> None:
    first, second = opener(), opener()
    now, rev = first.move_clock(10.0)
    later, next_rev = second.move_clock(5.0)
    assert (now, later) == (10.0, 10.0) and next_rev > rev
    assert [s.step_clock(1.0, 0.0)[0] for s in (first, second)] == [11.0, 12.0]


def test_store_task_lists_read_every_task(store: Store) -> None:
    grant(store, "1000")
    for n in (1, 2, 3):
        insert(store, replace(task(n), plan=Plan(float(n), 10.0, 20.0)))
    assert [t.id for t in store.newest_tasks(2)] == [task(3).id, task(2).id]
    assert store.count_tasks() == 3


def test_store_keys_and_balances_read_back(store: Store) -> None:
    store.put_keys({KEY: {"user_group": "vip"}}, lambda k, available: [])
    grant(store, "15")
    assert store.keys() == {KEY: {}}
    assert store.balances() == {KEY: billing.Balance(D(15), D(15), D(0), D(0))}


def test_store_rules_are_deleted_one_or_all(store: Store) -> None:
    first, second = store.add_rules([{"match": {}, "effect": {}}] * 2)
    assert not store.delete_rules("rule-none") and not store.delete_rules("rule-99")
    assert store.delete_rules(first)
    assert [r["id"] for r in store.rules()] == [second]
    assert store.delete_rules() and store.rules() == []


def test_store_released_claims_free_their_attempts(opener: Opener) -> None:
    first, second = opener(), opener()
    grant(first, "15")
    written = insert(first, task(1))
    assert written is not None
    rev = first.state().rev
    first.settle(written, [], [(written.id, "https://example.com/hook", b"{}", 2.0)])
    assert [d.task_id for d in second.callbacks_since(rev)] == [written.id]
    assert first.claim_callback(written.id, 0, "a", 1e12, 0.0)
    assert not second.claim_callback(written.id, 0, "b", 1e12, 0.0)
    first.release_callback_claims("a")
    assert second.claim_callback(written.id, 0, "b", 1e12, 0.0)
    assert not first.record_callback_attempt(written.id, "a", {"number": 1}, "pending", 3.0)
    assert second.record_callback_attempt(written.id, "b", {"number": 1}, "delivered", None)
    assert first.callback_attempts([written.id]) == [{"task_id": written.id, "number": 1}]
    assert first.callbacks_since(rev + 1) == [] and first.callbacks(pending=True) == []


def test_store_journal_head_moves_with_each_batch(store: Store) -> None:
    assert store.journal_head() == 0
    row = [0, 0.0, KEY, None, "GET", "/v1/tasks/x", 200, 0.1, None, None, None]
    store.append_journal([row, row], keep=100)
    assert store.journal_head() == 2


def test_store_journal_rows_read_past_many_batches_either_way(store: Store) -> None:
    row = [0, 0.0, KEY, None, "GET", "/v1/tasks/x", 200, 0.1, None, None, None]
    for _ in range(20):  # more batches than one query reads
        store.append_journal([row], keep=100)
    assert [r[0] for r in store.journal_rows(after=3)] == list(range(4, 21))
    assert [r[0] for r in store.journal_rows(after=3, newest_first=True)] == list(range(20, 3, -1))


def upload(number: int, expires: float) -> FileRecord:
    """A file uploaded at time ``number``."""
    name = f"file-{number}"
    return FileRecord(
        name, KEY, f"/files/{name}", name, float(number), expires, "a.png", 3, "image/png"
    )


def test_store_files_live_until_they_expire(store: Store) -> None:
    old, young = upload(1, 10.0), upload(2, 20.0)
    store.put_file(old)
    store.put_file(young)
    assert store.get_file(old.file_id) == old and store.get_file("file-none") is None
    assert store.live_files(KEY, 15.0) == [young] and store.count_files(KEY, 5.0) == 2
    assert store.live_files(KEY, 5.0, offset=1, limit=1) == [old]
    assert store.expired_files(15.0) == [old]
    store.put_file(upload(3, 30.0), replaces=[young.file_id])
    store.delete_files([old.file_id])
    assert [f.file_id for f in store.all_files()] == ["file-3"]


def protocol_methods() -> set[str]:
    """Every method and property the store's Protocols declare."""
    protocols = [c for c in Store.__mro__ if getattr(c, "_is_protocol", False)]
    return {
        name
        for protocol in protocols
        for name, value in vars(protocol).items()
        if not name.startswith("_") and (callable(value) or isinstance(value, property))
    }


def used_here() -> set[str]:
    """Every attribute this module's tests use (the calls on a store among them)."""
    tree = ast.parse(Path(__file__).read_text())
    return {node.attr for node in ast.walk(tree) if isinstance(node, ast.Attribute)}


def test_store_contract_exercises_every_protocol_method() -> None:
    """Each test above runs on every backend, so a method used here is held to one
    behaviour on all of them; one used nowhere here is held to none."""
    assert protocol_methods() - used_here() == set()
