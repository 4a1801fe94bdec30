"""The store's one schema, written once; each dialect renders its column types into it
(``TYPES`` in store/sqlite.py and store/postgresql.py: both keep credits exact).

Every statement is idempotent, so the same text creates a fresh store, fills the tables an
upgrade from an older layout has not made yet (store/migrations.py), and makes the
in-memory template (store/sqlite.py).
"""

from __future__ import annotations

import re
from collections.abc import Mapping

VERSION = 3

SCHEMA = """
CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL);
INSERT INTO schema_version SELECT {version} WHERE NOT EXISTS (SELECT 1 FROM schema_version);
CREATE TABLE IF NOT EXISTS state (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    rev {bigint} NOT NULL DEFAULT 0,
    epoch {bigint} NOT NULL DEFAULT 0,
    keys_rev {bigint} NOT NULL DEFAULT 0,
    scenarios_rev {bigint} NOT NULL DEFAULT 0,
    clock_now {real},
    clock_start {real},
    seed {bigint},
    secret TEXT,
    scenarios_loaded {bool} NOT NULL DEFAULT FALSE
);
INSERT INTO state (id) VALUES (1) ON CONFLICT DO NOTHING;
CREATE TABLE IF NOT EXISTS counters (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    task_seq {bigint} NOT NULL DEFAULT 0,
    journal_seq {bigint} NOT NULL DEFAULT 0
);
INSERT INTO counters (id) VALUES (1) ON CONFLICT DO NOTHING;
CREATE TABLE IF NOT EXISTS tasks (
    id TEXT PRIMARY KEY,
    key TEXT NOT NULL,
    created {real} NOT NULL,
    finish {real} NOT NULL,
    data TEXT NOT NULL,
    plan TEXT NOT NULL,
    settled {bool} NOT NULL DEFAULT FALSE,
    rev {bigint} NOT NULL
);
CREATE INDEX IF NOT EXISTS tasks_unsettled ON tasks (finish, id) WHERE NOT settled;
CREATE INDEX IF NOT EXISTS tasks_by_rev ON tasks (rev);
CREATE INDEX IF NOT EXISTS tasks_by_key ON tasks (key, created);
CREATE INDEX IF NOT EXISTS tasks_by_created ON tasks (created, id);
CREATE TABLE IF NOT EXISTS ledger (
    seq {serial},
    at {real} NOT NULL,
    key TEXT NOT NULL,
    kind TEXT NOT NULL,
    amount {money} NOT NULL,
    task_id TEXT,
    note TEXT
);
CREATE INDEX IF NOT EXISTS ledger_by_key ON ledger (key, seq);
CREATE INDEX IF NOT EXISTS ledger_by_task ON ledger (task_id);
CREATE INDEX IF NOT EXISTS ledger_by_at ON ledger (at, seq);
CREATE TABLE IF NOT EXISTS balances (
    key TEXT PRIMARY KEY,
    granted {money} NOT NULL DEFAULT {zero},
    available {money} NOT NULL DEFAULT {zero},
    reserved {money} NOT NULL DEFAULT {zero},
    charged {money} NOT NULL DEFAULT {zero}
);
CREATE TABLE IF NOT EXISTS keys (key TEXT PRIMARY KEY, data TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS scenarios (
    id {serial},
    data TEXT NOT NULL,
    times INTEGER,
    used INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS files (
    file_id TEXT PRIMARY KEY,
    key TEXT NOT NULL,
    upload_path TEXT NOT NULL,
    file_name TEXT NOT NULL,
    uploaded {real} NOT NULL,
    expires {real} NOT NULL,
    data TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS files_by_key ON files (key, expires);
CREATE TABLE IF NOT EXISTS callbacks (
    position {serial},
    task_id TEXT NOT NULL UNIQUE,
    url TEXT NOT NULL,
    body {blob} NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_due {real},
    state TEXT NOT NULL DEFAULT 'pending',
    claimed_by TEXT,
    lease_until {real},
    rev {bigint} NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS callbacks_pending ON callbacks (next_due) WHERE state = 'pending';
CREATE INDEX IF NOT EXISTS callbacks_by_rev ON callbacks (rev);
CREATE TABLE IF NOT EXISTS callback_attempts (
    task_id TEXT NOT NULL,
    number INTEGER NOT NULL,
    data TEXT NOT NULL,
    PRIMARY KEY (task_id, number)
);
CREATE TABLE IF NOT EXISTS journal_batches (
    last_seq {bigint} PRIMARY KEY,
    first_seq {bigint} NOT NULL,
    data {blob} NOT NULL
)
"""

# What ``reset`` empties: every table but the one-row ones (``state`` is reset in place
# and ``counters`` carry on, so no task number or journal number is handed out twice).
# Read from the schema, so a table added to it is emptied too.
TABLES = tuple(
    name
    for name in re.findall(r"CREATE TABLE IF NOT EXISTS (\w+)", SCHEMA)
    if name not in ("schema_version", "state", "counters")
)


def statements(types: Mapping[str, str]) -> tuple[str, ...]:
    """The schema in a dialect's column types, one statement each."""
    text = SCHEMA.format(version=VERSION, **types)
    return tuple(s.strip() for s in text.split(";") if s.strip())
