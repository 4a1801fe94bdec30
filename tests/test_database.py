"""The store's connection: an in-memory store is a copy of a template, and exact."""

from __future__ import annotations

from pathlib import Path

from mock_server.store.sqlite import SqliteStore


def dump(store: SqliteStore) -> list[str]:
    with store.transaction() as db:
        return sorted(db.iterdump())


def test_database_memory_store_is_what_the_schema_statements_make(tmp_path: Path) -> None:
    from_template = SqliteStore(":memory:")
    from_statements = SqliteStore(str(tmp_path / "state.db"))
    assert dump(from_template) == dump(from_statements)


def test_database_memory_stores_share_nothing() -> None:
    first, second = SqliteStore(":memory:"), SqliteStore(":memory:")
    first.init_state(clock_start=1.0, seed=1, secret="aa")
    assert second.state().clock_start is None
    assert SqliteStore(":memory:").state() == second.state()
