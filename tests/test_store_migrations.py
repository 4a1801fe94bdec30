"""Every earlier layout of the store on main opens in this wanmock with its data intact:
each is built from its own DDL (tests/data/store/), filled with one of everything, opened
with ``open_store``, read back and written to."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import orjson
import psycopg
import pytest

from mock_server.domain import billing
from mock_server.domain.models import Plan, Task
from mock_server.store import schema
from mock_server.store.open import SqlStore, open_store
from mock_server.store.records import StoreError
from mock_server.store.tasks import task_data
from tests.test_store_contract import KEY, REQUEST

LAYOUTS = Path(__file__).parent / "data" / "store"
TASK = Task(
    "task-unified-0-00000001", KEY, REQUEST, Plan(0.0, 1.0, 2.0), Decimal(10), Decimal(0), (), 1
)
PLAN = orjson.dumps(TASK.plan.to_json()).decode()
RULE = '{"match": {}, "effect": {}, "times": 3}'
ATTEMPT = '{"number": 1, "attempted_at": 3.0, "status": 500}'
JOURNAL = orjson.dumps([[n, 0.0, KEY, None, "GET", "/v1/x", 200, 0.1] for n in (1, 2)])
HOOK = (TASK.id, "https://example.com/hook", b"{}", 1, 5.0)
SHARED = [
    ("INSERT INTO keys VALUES (?, ?)", (KEY, "{}")),
    ("INSERT INTO callback_attempts VALUES (?, ?, ?)", (TASK.id, 1, ATTEMPT)),
    ("INSERT INTO journal_batches VALUES (?, ?, ?)", (2, 1, JOURNAL)),
]
LEDGER = [
    ("INSERT INTO ledger (at, key, kind, amount) VALUES (0, ?, 'grant', '100')", (KEY,)),
    ("INSERT INTO ledger (at, key, kind, amount, task_id) VALUES (0, ?, 'reserve', '10', ?)",
     (KEY, TASK.id)),
]  # fmt: skip
TASK_ROW = (TASK.id, KEY, 0.0, 2.0, task_data(TASK), PLAN)
# Schema 2 on SQLite and 1 on PostgreSQL: the same tables but for the counters.
VERSIONED = [
    *SHARED,
    *LEDGER,
    ("INSERT INTO balances VALUES (?, ?, ?, ?, ?)", (KEY, "100", "90", "10", "0")),
    ("INSERT INTO tasks VALUES (?, ?, ?, ?, ?, ?, ?, 3)", (*TASK_ROW, False)),
    ("INSERT INTO scenarios (data, times, used) VALUES (?, 3, 1)", (RULE,)),
    (
        "INSERT INTO callbacks (task_id, url, body, attempts, next_due, rev) "
        "VALUES (?, ?, ?, ?, ?, 3)",
        HOOK,
    ),
    (
        "UPDATE state SET rev = 7, clock_start = 100, clock_now = 150, secret = 'ab', "
        "scenarios_loaded = ?",
        (True,),
    ),
]
# One of everything, in each layout's own tables and columns.
ROWS: dict[str, list[tuple[str, tuple[Any, ...]]]] = {
    "sqlite_v1": [
        *SHARED,
        *LEDGER,
        ("INSERT INTO tasks VALUES (?, ?, ?, ?, ?, 0)", TASK_ROW[:3] + TASK_ROW[4:]),
        ("INSERT INTO scenarios VALUES (0, ?)", ('{"match": {}, "effect": {}, "times": 3, '
                                                 '"used": 1}',)),
        ("INSERT INTO callbacks (task_id, url, body, attempts, next_due) VALUES (?, ?, ?, ?, ?)",
         HOOK),
        ("INSERT INTO meta VALUES ('clock_start', '100.0'), ('clock_now', '150.0'), "
         "('secret', 'ab'), ('scenarios_loaded', '1')", ()),
    ],
    "sqlite_v2": [*VERSIONED, ("UPDATE state SET task_seq = 64, journal_seq = 2", ())],
    "postgresql_v1": [
        *VERSIONED,
        ("SELECT setval('task_numbers', 64)", ()),
        ("UPDATE journal_head SET seq = 2", ()),
    ],
}  # fmt: skip


# The task numbers each layout had handed out (schema 1 on SQLite counted its tasks).
NUMBERED = {"sqlite_v1": 1, "sqlite_v2": 64, "postgresql_v1": 64}


def ddl(layout: str) -> list[str]:
    lines = (LAYOUTS / f"{layout}.sql").read_text().splitlines()
    text = "\n".join(line for line in lines if not line.startswith("--"))
    return [s for s in text.split(";") if s.strip()]


def build_sqlite(layout: str, path: str) -> str:
    with sqlite3.connect(path) as db:
        for statement in ddl(layout):
            db.execute(statement)
        for sql, args in ROWS[layout]:
            db.execute(sql, args)
    db.close()
    return path


def build_postgresql(layout: str, url: str) -> str:
    with psycopg.connect(url) as db:
        for statement in ddl(layout):
            db.execute(statement)
        for sql, args in ROWS[layout]:
            db.execute(sql.replace("?", "%s"), args)
    return url


@pytest.fixture(params=sorted(ROWS))
def layout(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def new_db(layout: str, request: pytest.FixtureRequest, tmp_path: Path) -> Callable[[], str]:
    """Makes an empty database of the layout's kind, each call another."""
    if layout.startswith("postgresql"):
        cluster = request.getfixturevalue("postgres_cluster")
        return lambda: str(cluster.new_database())
    names = iter(range(1_000))
    return lambda: str(tmp_path / f"state-{next(names)}.db")


@pytest.fixture
def old_store(layout: str, new_db: Callable[[], str]) -> Iterator[SqlStore]:
    """A store of an earlier layout, filled, then opened by this wanmock."""
    build = build_postgresql if layout.startswith("postgresql") else build_sqlite
    store = open_store(build(layout, new_db()))
    yield store
    store.close()


def columns(store: SqlStore) -> dict[str, list[str]]:
    """Each table's columns, as the database reports them."""
    with store.transaction() as db:
        names = sorted(store.dialect.tables(db))
        found = {t: db.execute(f"SELECT * FROM {t} LIMIT 0").description for t in names}
    return {table: sorted(c[0] for c in described) for table, described in found.items()}


def test_store_migrations_reach_the_current_schema(
    old_store: SqlStore, new_db: Callable[[], str]
) -> None:
    fresh = open_store(new_db())
    assert columns(old_store) == columns(fresh)
    fresh.close()
    with old_store.transaction() as db:
        assert (
            db.execute("SELECT version FROM schema_version").fetchone()["version"] == schema.VERSION
        )


def test_store_migrations_keep_tasks_money_and_settings(old_store: SqlStore) -> None:
    stored = old_store.get_task(TASK.id)
    assert stored is not None and (stored.plan, stored.reserved) == (TASK.plan, TASK.reserved)
    assert old_store.balance(KEY) == billing.Balance(Decimal(100), Decimal(90), Decimal(10))
    assert [e.kind for e in old_store.ledger_entries(KEY)] == ["grant", "reserve"]
    state = old_store.state()
    assert (state.clock_now, state.secret, state.scenarios_loaded) == (150.0, "ab", True)
    assert old_store.keys() == {KEY: {}}


def test_store_migrations_keep_rules_with_their_uses(old_store: SqlStore) -> None:
    [rule] = old_store.rules()
    assert (rule["id"], rule["used"], rule["times"]) == ("rule-1", 1, 3)
    assert [old_store.use_rule("rule-1") for _ in range(3)] == [True, True, False]


def test_store_migrations_keep_the_outbox_in_order(old_store: SqlStore) -> None:
    [delivery] = old_store.callbacks(after=0, limit=10)
    assert (delivery.task_id, delivery.attempts, delivery.body) == (TASK.id, 1, b"{}")
    assert [a["number"] for a in old_store.callback_attempts([TASK.id])] == [1]
    stored = old_store.get_task(TASK.id)
    assert stored is not None and old_store.claim_callback(TASK.id, 1, "a", 1e12, 0.0)
    old_store.settle(stored, [], [(stored.id, "https://example.com/other", b"{}", 6.0)])
    assert old_store.callbacks(after=delivery.position) == []  # one delivery per task


def test_store_migrations_carry_the_numbering_on(old_store: SqlStore, layout: str) -> None:
    assert old_store.journal_head() == 2
    row = [0, 0.0, KEY, None, "GET", "/v1/x", 200, 0.1]
    old_store.append_journal([row], keep=100)
    assert [r[0] for r in old_store.journal_rows()] == [1, 2, 3]
    assert old_store.next_task_number() > NUMBERED[layout]
    grant = billing.reservation(KEY, "task-unified-0-00000002", Decimal(5), 0.0)
    new = Task("task-unified-0-00000002", KEY, REQUEST, TASK.plan, Decimal(5), Decimal(0), (), 1)
    assert old_store.insert_task(new, grant) is not None
    assert old_store.ledger_entries(KEY)[-1].seq == 3


def test_store_migrations_refuse_a_layout_newer_than_this_wanmock(
    new_db: Callable[[], str],
) -> None:
    db = new_db()
    store = open_store(db)
    with store.transaction() as conn:
        conn.execute("UPDATE schema_version SET version = ?", (schema.VERSION + 1,))
    store.close()
    with pytest.raises(StoreError, match=f"has schema {schema.VERSION + 1}"):
        open_store(db)
