-- The store's layout on main at c811c36 (schema 2), kept to test upgrades from it
-- (tests/test_store_migrations.py), taken from mock_server/store/{state,tasks,ledger,keys,files,outbox,journal}.py.
CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS state (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    rev INTEGER NOT NULL DEFAULT 0,
    epoch INTEGER NOT NULL DEFAULT 0,
    keys_rev INTEGER NOT NULL DEFAULT 0,
    scenarios_rev INTEGER NOT NULL DEFAULT 0,
    task_seq INTEGER NOT NULL DEFAULT 0,
    journal_seq INTEGER NOT NULL DEFAULT 0,
    clock_now REAL,
    clock_start REAL,
    seed INTEGER,
    secret TEXT,
    scenarios_loaded INTEGER NOT NULL DEFAULT 0
);
INSERT OR IGNORE INTO state (id) VALUES (1);
CREATE TABLE IF NOT EXISTS tasks (
    id TEXT PRIMARY KEY,
    key TEXT NOT NULL,
    created REAL NOT NULL,
    finish REAL NOT NULL,
    data TEXT NOT NULL,
    plan TEXT NOT NULL,
    settled INTEGER NOT NULL DEFAULT 0,
    rev INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS tasks_unsettled ON tasks (finish, id) WHERE settled = 0;
CREATE INDEX IF NOT EXISTS tasks_by_rev ON tasks (rev);
CREATE INDEX IF NOT EXISTS tasks_by_key ON tasks (key, created);
CREATE INDEX IF NOT EXISTS tasks_by_created ON tasks (created, id);
CREATE TABLE IF NOT EXISTS ledger (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    at REAL NOT NULL,
    key TEXT NOT NULL,
    kind TEXT NOT NULL,
    amount TEXT NOT NULL,
    task_id TEXT,
    note TEXT
);
CREATE INDEX IF NOT EXISTS ledger_by_key ON ledger (key, seq);
CREATE INDEX IF NOT EXISTS ledger_by_task ON ledger (task_id);
CREATE INDEX IF NOT EXISTS ledger_by_at ON ledger (at, seq);
CREATE TABLE IF NOT EXISTS balances (
    key TEXT PRIMARY KEY,
    granted TEXT NOT NULL DEFAULT '0',
    available TEXT NOT NULL DEFAULT '0',
    reserved TEXT NOT NULL DEFAULT '0',
    charged TEXT NOT NULL DEFAULT '0'
);
CREATE TABLE IF NOT EXISTS keys (key TEXT PRIMARY KEY, data TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS scenarios (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    data TEXT NOT NULL,
    times INTEGER,
    used INTEGER NOT NULL DEFAULT 0
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
    lease_until REAL,
    rev INTEGER NOT NULL DEFAULT 0
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
    last_seq INTEGER PRIMARY KEY,
    first_seq INTEGER NOT NULL,
    data BLOB NOT NULL
);
INSERT INTO schema_version VALUES (2);
