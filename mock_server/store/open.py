"""Which store a ``--db`` value names, opened; a value no store can use stops the start
with a message that says why."""

from __future__ import annotations

from urllib.parse import urlsplit

from mock_server.store.protocols import Store
from mock_server.store.sqlite import SqliteStore
from mock_server.store.state import StoreError

POSTGRES_SCHEMES = ("postgresql", "postgres")


def open_store(db: str) -> Store:
    """``:memory:`` or a file path: SQLite; ``postgresql://…``: PostgreSQL (imported only
    then). A URL with another scheme is refused."""
    scheme = urlsplit(db).scheme if "://" in db else ""
    if scheme in POSTGRES_SCHEMES:
        try:
            from mock_server.store.postgres import PostgresStore
        except ImportError as exc:  # psycopg is the `postgres` extra, not a dependency
            raise StoreError(
                f"--db {scheme}://…: PostgreSQL support is not installed ({exc.name} is "
                "missing); install it with: pip install 'wanmock[postgres]'"
            ) from None
        return PostgresStore(db)
    if scheme:
        raise StoreError(
            f"--db {db}: unknown store scheme {scheme!r}; give a file path or a postgresql:// URL"
        )
    return SqliteStore(db)
