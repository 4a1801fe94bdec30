"""The store's connection: an in-memory store is a copy of a template, and exact."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from mock_server.runtime.config import Config
from mock_server.service.fake import Fake
from mock_server.store.open import SqlStore, open_store
from mock_server.store.records import StoreClosedError
from tests.conftest import BODY, KEY


def dump(store: SqlStore) -> list[str]:
    with store.transaction() as db:
        return sorted(db.iterdump())


def test_database_memory_store_is_what_the_schema_statements_make(tmp_path: Path) -> None:
    from_template = open_store(":memory:")
    from_statements = open_store(str(tmp_path / "state.db"))
    assert dump(from_template) == dump(from_statements)


def test_database_memory_stores_share_nothing() -> None:
    first, second = open_store(":memory:"), open_store(":memory:")
    first.init_state(clock_start=1.0, seed=1, secret="aa")
    assert second.state().clock_start is None
    assert open_store(":memory:").state() == second.state()


def test_database_memory_store_opened_after_a_used_one_closed_is_empty(tmp_path: Path) -> None:
    used = Fake(Config(db=":memory:", clock="virtual"))
    used.create_task(KEY, BODY)
    asyncio.run(used.advance(3600))
    used.store.close()
    assert dump(open_store(":memory:")) == dump(open_store(str(tmp_path / "state.db")))


def test_database_closed_memory_store_refuses_use() -> None:
    store = open_store(":memory:")
    store.close()
    with pytest.raises(StoreClosedError):
        store.state()


def test_database_reset_empties_every_table_but_the_one_row_ones(tmp_path: Path) -> None:
    fake = Fake(Config(db=str(tmp_path / "state.db"), clock="virtual"))
    fake.create_task(KEY, BODY)
    asyncio.run(fake.advance(3600))
    fake.store.reset()
    with open_store(str(tmp_path / "state.db")).transaction() as db:
        tables = "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite%'"
        names = [name for (name,) in db.execute(tables).fetchall()]
        filled = [name for name in names if db.execute(f'SELECT 1 FROM "{name}"').fetchone()]
    assert sorted(filled) == ["counters", "schema_version", "state"]
