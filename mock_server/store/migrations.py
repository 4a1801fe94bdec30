"""Every earlier layout of the store on main, brought to the current schema
(store/schema.py) in the transaction that opens it.

A migration is two lists of steps, SQL or a function of the connection: ``before`` the
schema's statements run (set the old tables aside; the statements create the new ones),
and ``after`` (copy their rows into the new tables, then drop them).
``tests/test_store_migrations.py`` builds each old layout, opens it, and checks its data.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

from mock_server.domain.billing import Ledger
from mock_server.domain.models import LedgerEntry

Step = str | Callable[[Any], None]
Migration = tuple[tuple[Step, ...], tuple[Step, ...]]  # before the schema, after it


def found_version(db: Any, tables: set[str]) -> int:
    """The layout's version: 0 for an empty database; SQLite's first layout kept its
    settings in a ``meta`` table and had no version."""
    if "schema_version" in tables:
        row = db.execute("SELECT version FROM schema_version").fetchone()
        if row is not None:
            return int(row["version"])
    return 1 if "meta" in tables else 0


def balances_from_ledger(db: Any) -> None:
    """The balances of a layout that kept only the entries: the pure ledger's sums."""
    rows = db.execute("SELECT * FROM ledger ORDER BY seq").fetchall()
    entries = (
        LedgerEntry(r["seq"], r["at"], r["key"], r["kind"], Decimal(r["amount"])) for r in rows
    )
    for key, balance in Ledger(entries).balances.items():
        amounts = (balance.granted, balance.available, balance.reserved, balance.charged)
        db.execute("INSERT INTO balances VALUES (?, ?, ?, ?, ?)", (key, *map(str, amounts)))


def _meta(name: str) -> str:
    return f"(SELECT value FROM old_meta WHERE name = '{name}')"


CALLBACK_COLUMNS = "task_id, url, body, attempts, next_due, state, claimed_by, lease_until"

SQLITE_1_SET_ASIDE = ("meta", "tasks", "ledger", "scenarios", "callbacks")
# SQLite, schema 1 (main before the store became the source of truth): settings in
# ``meta``, tasks without finish or version, no balances, rules as positions.
SQLITE_1: Migration = (
    (
        "DROP INDEX IF EXISTS tasks_unsettled",
        *(f"ALTER TABLE {t} RENAME TO old_{t}" for t in SQLITE_1_SET_ASIDE),
    ),
    (
        "INSERT INTO tasks (id, key, created, finish, data, plan, settled, rev) "
        "SELECT id, key, created, json_extract(plan, '$.finish'), data, plan, settled, 0 "
        "FROM old_tasks",
        "INSERT INTO ledger SELECT * FROM old_ledger",
        balances_from_ledger,
        "INSERT INTO scenarios (id, data, times, used) SELECT position + 1, data, "
        "json_extract(data, '$.times'), COALESCE(json_extract(data, '$.used'), 0) "
        "FROM old_scenarios ORDER BY position",
        f"INSERT INTO callbacks ({CALLBACK_COLUMNS}) SELECT {CALLBACK_COLUMNS} "
        "FROM old_callbacks ORDER BY rowid",
        f"UPDATE state SET clock_start = CAST({_meta('clock_start')} AS REAL), "
        f"clock_now = CAST({_meta('clock_now')} AS REAL), secret = {_meta('secret')}, "
        f"scenarios_loaded = {_meta('scenarios_loaded')} IS NOT NULL",
        "UPDATE counters SET task_seq = (SELECT COUNT(*) FROM tasks), "
        "journal_seq = (SELECT COALESCE(MAX(last_seq), 0) FROM journal_batches)",
        *(f"DROP TABLE old_{t}" for t in SQLITE_1_SET_ASIDE),
    ),
)

# SQLite, schema 2: the counters lived in ``state``, the outbox's order was its rowid.
SQLITE_2: Migration = (
    (
        "DROP INDEX tasks_unsettled",
        "DROP INDEX callbacks_pending",
        "DROP INDEX callbacks_by_rev",
        "ALTER TABLE callbacks RENAME TO old_callbacks",
    ),
    (
        f"INSERT INTO callbacks (position, {CALLBACK_COLUMNS}, rev) "
        f"SELECT rowid, {CALLBACK_COLUMNS}, rev FROM old_callbacks",
        "DROP TABLE old_callbacks",
        "UPDATE counters SET task_seq = (SELECT task_seq FROM state), "
        "journal_seq = (SELECT journal_seq FROM state)",
        "ALTER TABLE state DROP COLUMN task_seq",
        "ALTER TABLE state DROP COLUMN journal_seq",
    ),
)

# PostgreSQL, schema 1: task numbers from a sequence, the journal's head in a table of its
# own, the outbox keyed by task with its order beside.
POSTGRESQL_1: Migration = (
    (),
    (
        "UPDATE counters SET "
        "task_seq = (SELECT CASE WHEN is_called THEN last_value ELSE 0 END FROM task_numbers), "
        "journal_seq = (SELECT seq FROM journal_head)",
        "DROP TABLE journal_head",
        "DROP SEQUENCE task_numbers",
        "ALTER TABLE callbacks DROP CONSTRAINT callbacks_pkey, "
        "DROP CONSTRAINT callbacks_position_key, ADD PRIMARY KEY (position), "
        "ADD UNIQUE (task_id)",
    ),
)

SQLITE: dict[int, Migration] = {1: SQLITE_1, 2: SQLITE_2}
POSTGRESQL: dict[int, Migration] = {1: POSTGRESQL_1}
