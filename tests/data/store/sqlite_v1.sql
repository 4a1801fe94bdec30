-- The store's layout on main at 5a83afb (schema 1), kept to test upgrades from it
-- (tests/test_store_migrations.py), taken from mock_server/store/{sqlite,files,outbox,journal}.py.
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS keys (
    key TEXT PRIMARY KEY,
    data TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS tasks (
    id TEXT PRIMARY KEY,
    key TEXT NOT NULL,
    created REAL NOT NULL,
    data TEXT NOT NULL,
    plan TEXT NOT NULL,
    settled INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS tasks_unsettled ON tasks (settled) WHERE settled = 0;
CREATE TABLE IF NOT EXISTS ledger (
    seq INTEGER PRIMARY KEY,
    at REAL NOT NULL,
    key TEXT NOT NULL,
    kind TEXT NOT NULL,
    amount TEXT NOT NULL,
    task_id TEXT,
    note TEXT
);
CREATE TABLE IF NOT EXISTS files (
    file_id TEXT PRIMARY KEY,
    key TEXT NOT NULL,
    upload_path TEXT NOT NULL,
    file_name TEXT NOT NULL,
    uploaded REAL NOT NULL,
    expires REAL NOT NULL,
    data TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS files_by_key ON files (key, expires);
CREATE TABLE IF NOT EXISTS callbacks (
    task_id TEXT PRIMARY KEY,
    url TEXT NOT NULL,
    body BLOB NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_due REAL,
    state TEXT NOT NULL DEFAULT 'pending',
    claimed_by TEXT,
    lease_until REAL
);
CREATE TABLE IF NOT EXISTS callback_attempts (
    task_id TEXT NOT NULL,
    number INTEGER NOT NULL,
    data TEXT NOT NULL,
    PRIMARY KEY (task_id, number)
);
CREATE TABLE IF NOT EXISTS journal_batches (
    last_seq INTEGER PRIMARY KEY,
    first_seq INTEGER NOT NULL,
    data BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS scenarios (position INTEGER PRIMARY KEY, data TEXT NOT NULL);
