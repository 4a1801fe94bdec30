"""Durable state: what a restart keeps."""

from __future__ import annotations

import asyncio
from pathlib import Path

from mock_server.runtime.config import Config
from mock_server.service.fake import Fake
from tests.conftest import BODY, KEY


def file_fake(path: Path, **overrides: object) -> Fake:
    return Fake(Config(**{"db": str(path / "state.db"), "clock": "virtual", **overrides}))  # type: ignore[arg-type]


def test_store_restart_keeps_tasks_and_their_state(tmp_path: Path) -> None:
    fake = file_fake(tmp_path)
    task = fake.create_task(KEY, BODY)
    asyncio.run(fake.advance(60))
    seen = fake.task_json(task)
    fake.store.close()
    again = file_fake(tmp_path)
    assert again.task_json(again.get_task(KEY, task.id)) == seen


def test_store_restart_keeps_the_virtual_clock(tmp_path: Path) -> None:
    fake = file_fake(tmp_path)
    now = asyncio.run(fake.advance(1234.5))
    fake.store.close()
    assert file_fake(tmp_path).now() == now


def test_store_settlement_due_during_downtime_happens_once_after_restart(tmp_path: Path) -> None:
    fake = file_fake(tmp_path)
    task = fake.create_task(KEY, BODY)
    fake.store.close()
    again = file_fake(tmp_path)
    asyncio.run(again.advance(3600))
    entries = [e.kind for e in again.store.ledger_entries(KEY) if e.task_id == task.id]
    assert entries == ["reserve", "release", "charge"]
    count = len(again.store.ledger_entries(KEY))
    again.store.close()
    third = file_fake(tmp_path)
    asyncio.run(third.advance(3600))
    assert len(third.store.ledger_entries(KEY)) == count


def test_store_restart_keeps_keys_and_balances(tmp_path: Path) -> None:
    fake = file_fake(tmp_path)
    fake.put_keys({"sk-team": {"credits": "42", "user_group": "vip"}})
    fake.create_task(KEY, BODY)
    balances = {k: b.to_json() for k, b in fake.balances().items()}
    fake.store.close()
    again = file_fake(tmp_path)
    assert {k: b.to_json() for k, b in again.balances().items()} == balances
    assert again.accounts.info("sk-team").user_group == "vip"


def test_store_configured_key_keeps_its_spent_balance_across_restarts(tmp_path: Path) -> None:
    fake = file_fake(tmp_path)
    fake.create_task(KEY, BODY)
    spent = fake.balance(KEY).available
    fake.store.close()
    assert file_fake(tmp_path).balance(KEY).available == spent
