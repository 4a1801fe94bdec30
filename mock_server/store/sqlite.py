"""The store on SQLite: one file (WAL) shared by every process of one fake, or
``:memory:`` for a fake that lives and dies with its process.

Every acknowledged change is committed before the answer leaves the server, so a
``kill -9`` at any moment loses nothing a client was told about. Each table's queries
live in their own module; this one puts them together (docs/ARCHITECTURE.md "Store").
"""

from __future__ import annotations

from mock_server.store.files import FILES_SCHEMA, FileTables
from mock_server.store.journal import JOURNAL_SCHEMA, JournalTables
from mock_server.store.keys import KEYS_SCHEMA, KeyTables
from mock_server.store.ledger import LEDGER_SCHEMA
from mock_server.store.outbox import OUTBOX_SCHEMA, OutboxTables
from mock_server.store.state import STATE_SCHEMA, StateTables
from mock_server.store.tasks import TASKS_SCHEMA


class SqliteStore(KeyTables, FileTables, OutboxTables, JournalTables, StateTables):
    """Tasks, ledger, keys, rules, files, the outbox, the journal and the shared state."""

    SCHEMAS = (
        STATE_SCHEMA,
        TASKS_SCHEMA,
        LEDGER_SCHEMA,
        KEYS_SCHEMA,
        FILES_SCHEMA,
        OUTBOX_SCHEMA,
        JOURNAL_SCHEMA,
    )
    TABLES = (
        "journal_batches",
        "scenarios",
        "tasks",
        "ledger",
        "balances",
        "keys",
        "files",
        "callbacks",
        "callback_attempts",
    )

    def __init__(self, path: str) -> None:
        super().__init__(path)
        self.check_schema()
        self.task_numbers = [0, 0]  # the block of task numbers taken: next, end

    def reset(self) -> None:
        """Forget everything; every process sharing the store drops its caches."""
        with self.transaction() as db:
            for table in self.TABLES:
                db.execute(f"DELETE FROM {table}")
            self.reset_state(db)
