-- The store's layout on main at c811c36 (schema 1), kept to test upgrades from it
-- (tests/test_store_migrations.py), taken from mock_server/store/pg_schema.py.
CREATE TABLE state (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    rev BIGINT NOT NULL DEFAULT 0,
    epoch BIGINT NOT NULL DEFAULT 0,
    keys_rev BIGINT NOT NULL DEFAULT 0,
    scenarios_rev BIGINT NOT NULL DEFAULT 0,
    clock_now DOUBLE PRECISION,
    clock_start DOUBLE PRECISION,
    seed BIGINT,
    secret TEXT,
    scenarios_loaded BOOLEAN NOT NULL DEFAULT FALSE
);
INSERT INTO state (id) VALUES (1);
CREATE SEQUENCE task_numbers;
CREATE TABLE journal_head (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    seq BIGINT NOT NULL DEFAULT 0
);
INSERT INTO journal_head (id) VALUES (1);
CREATE TABLE tasks (
    id TEXT PRIMARY KEY,
    key TEXT NOT NULL,
    created DOUBLE PRECISION NOT NULL,
    finish DOUBLE PRECISION NOT NULL,
    data TEXT NOT NULL,
    plan TEXT NOT NULL,
    settled BOOLEAN NOT NULL DEFAULT FALSE,
    rev BIGINT NOT NULL
);
CREATE INDEX tasks_unsettled ON tasks (finish, id) WHERE NOT settled;
CREATE INDEX tasks_by_rev ON tasks (rev);
CREATE INDEX tasks_by_key ON tasks (key, created);
CREATE INDEX tasks_by_created ON tasks (created, id);
CREATE TABLE ledger (
    seq BIGSERIAL PRIMARY KEY,
    at DOUBLE PRECISION NOT NULL,
    key TEXT NOT NULL,
    kind TEXT NOT NULL,
    amount NUMERIC NOT NULL,
    task_id TEXT,
    note TEXT
);
CREATE INDEX ledger_by_key ON ledger (key, seq);
CREATE INDEX ledger_by_task ON ledger (task_id);
CREATE INDEX ledger_by_at ON ledger (at, seq);
CREATE TABLE balances (
    key TEXT PRIMARY KEY,
    granted NUMERIC NOT NULL DEFAULT 0,
    available NUMERIC NOT NULL DEFAULT 0,
    reserved NUMERIC NOT NULL DEFAULT 0,
    charged NUMERIC NOT NULL DEFAULT 0
);
CREATE TABLE keys (key TEXT PRIMARY KEY, data TEXT NOT NULL);
CREATE TABLE scenarios (
    id BIGSERIAL PRIMARY KEY,
    data TEXT NOT NULL,
    times INTEGER,
    used INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE files (
    file_id TEXT PRIMARY KEY,
    key TEXT NOT NULL,
    upload_path TEXT NOT NULL,
    file_name TEXT NOT NULL,
    uploaded DOUBLE PRECISION NOT NULL,
    expires DOUBLE PRECISION NOT NULL,
    data TEXT NOT NULL
);
CREATE INDEX files_by_key ON files (key, expires);
CREATE TABLE callbacks (
    task_id TEXT PRIMARY KEY,
    position BIGSERIAL UNIQUE,
    url TEXT NOT NULL,
    body BYTEA NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_due DOUBLE PRECISION,
    state TEXT NOT NULL DEFAULT 'pending',
    claimed_by TEXT,
    lease_until DOUBLE PRECISION,
    rev BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX callbacks_pending ON callbacks (next_due) WHERE state = 'pending';
CREATE INDEX callbacks_by_rev ON callbacks (rev);
CREATE TABLE callback_attempts (
    task_id TEXT NOT NULL,
    number INTEGER NOT NULL,
    data TEXT NOT NULL,
    PRIMARY KEY (task_id, number)
);
CREATE TABLE journal_batches (
    last_seq BIGINT PRIMARY KEY,
    first_seq BIGINT NOT NULL,
    data BYTEA NOT NULL
);
CREATE TABLE schema_version (version INTEGER NOT NULL);
INSERT INTO schema_version VALUES (1);
