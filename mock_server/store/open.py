"""Which store a ``--db`` value names, opened: one store (``SqlStore``) over the dialect
the value picks, or a message that says why no store can use it."""

from __future__ import annotations

from urllib.parse import urlsplit

from mock_server.store.files import FileTables
from mock_server.store.journal import JournalTables
from mock_server.store.keys import KeyTables
from mock_server.store.outbox import OutboxTables
from mock_server.store.records import StoreError
from mock_server.store.sqlite import SqliteDialect
from mock_server.store.state import StateTables

POSTGRES_SCHEMES = ("postgresql", "postgres")


class SqlStore(KeyTables, FileTables, OutboxTables, JournalTables, StateTables):
    """Every aggregate's tables (store/*.py) over one ``Database``; it meets ``Store``."""


def open_store(db: str) -> SqlStore:
    """``:memory:`` or a file path: SQLite; ``postgresql://…``: PostgreSQL (its driver
    imported only then). A URL with another scheme is refused."""
    scheme = urlsplit(db).scheme if "://" in db else ""
    if scheme in POSTGRES_SCHEMES:
        try:
            from mock_server.store.postgresql import PostgresDialect
        except ImportError as exc:  # psycopg is the `postgres` extra, not a dependency
            raise StoreError(
                f"--db {scheme}://…: PostgreSQL support is not installed ({exc.name} is "
                "missing); install it with: pip install 'wanmock[postgres]'"
            ) from None
        return SqlStore(PostgresDialect(db))
    if scheme:
        raise StoreError(
            f"--db {db}: unknown store scheme {scheme!r}; give a file path or a postgresql:// URL"
        )
    return SqlStore(SqliteDialect(db))
