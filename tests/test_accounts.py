"""Accounts (service/accounts.py): keys, authentication, balances and charges."""

from __future__ import annotations

from decimal import Decimal

import pytest

from mock_server.domain.errors import ApiError
from mock_server.service.fake import Fake
from tests.conftest import BODY, KEY


def test_accounts_authenticate_returns_the_bearer_key(fake: Fake) -> None:
    assert fake.accounts.authenticate(f"Bearer {KEY}") == KEY
    assert fake.accounts.authenticate(f"  bearer   {KEY} ") == KEY


@pytest.mark.parametrize("header", [None, "", KEY, f"Basic {KEY}", "Bearer sk-unknown"])
def test_accounts_authenticate_refuses_anything_else_with_401(fake: Fake, header: str) -> None:
    with pytest.raises(ApiError) as refused:
        fake.accounts.authenticate(header)
    assert refused.value.status == 401


def test_accounts_put_keys_answers_every_key_with_its_balance(fake: Fake) -> None:
    table = fake.accounts.put_keys({"sk-team": {"credits": "42", "user_group": "vip"}})
    assert table["sk-team"]["user_group"] == "vip"
    assert table["sk-team"]["credits"] == "42"
    assert set(table) == {KEY, "sk-team"}


def test_accounts_put_keys_with_a_bad_spec_keeps_nothing(fake: Fake) -> None:
    with pytest.raises(ApiError):
        fake.accounts.put_keys({"sk-good": {"credits": "5"}, "sk-bad": {"credits": "lots"}})
    assert not fake.accounts.known("sk-good")


def test_accounts_own_balance_is_the_authenticated_keys(fake: Fake) -> None:
    fake.accounts.put_keys({"sk-other": {"credits": "7"}})
    assert fake.accounts.own_balance("Bearer sk-other").available == Decimal(7)
    with pytest.raises(ApiError):
        fake.accounts.own_balance("Bearer sk-nobody")


def test_accounts_balance_bills_what_ended_before_it_answers(fake: Fake) -> None:
    task = fake.create_task(KEY, BODY)
    fake.clock.set(task.plan.finish)  # the clock moved; no event has run yet
    balance = fake.accounts.balance(KEY)
    assert balance.reserved == 0
    assert balance.charged == fake.accounts.charge_of(fake.control_task(task.id))


def test_accounts_charge_of_is_nothing_for_a_failed_task(fake: Fake) -> None:
    task = fake.force(fake.create_task(KEY, BODY).id, "failed", code="service_error")
    assert fake.accounts.charge_of(task) is None


def test_accounts_ledger_shows_one_keys_entries_and_balance(fake: Fake) -> None:
    fake.accounts.put_keys({"sk-other": {"credits": "7"}})
    fake.create_task(KEY, BODY)
    ledger = fake.accounts.ledger("sk-other")
    assert set(ledger["balances"]) == {"sk-other"}
    assert {e["key"] for e in ledger["entries"]} == {"sk-other"}


def test_accounts_names_lists_configured_keys_first(fake: Fake) -> None:
    fake.accounts.put_keys({"sk-b": {"credits": "1"}, "sk-a": {"credits": "1"}})
    assert fake.accounts.names() == [KEY, "sk-b", "sk-a"]
