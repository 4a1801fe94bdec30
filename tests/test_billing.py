"""Price math and the ledger (SOURCES.md "Billing", "Prices")."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mock_server.domain import billing
from mock_server.domain.catalog import MODELS
from mock_server.domain.errors import ApiError
from mock_server.domain.models import LedgerEntry

STANDARD = MODELS["wan2.6-reference-video"]
FLASH = MODELS["wan2.6-reference-video-flash"]
D = Decimal


@pytest.mark.parametrize(
    ("durations", "billed"),
    [
        ([D(3)], D(3)),
        ([D(12)], D(5)),
        ([D(5)], D(5)),
        ([D(2), D(9)], D("4.5")),
        ([D(2.5), D(2.5)], D(5)),
        ([D(30), D(30)], D(5)),
        ([D(1), D(2), D(3)], D("4.3")),
        ([D(10), D(10), D(10)], D("4.95")),
    ],
)
def test_billing_input_seconds_follow_the_documented_caps(
    durations: list[Decimal], billed: Decimal
) -> None:
    assert billing.input_seconds(durations) == billed


def test_billing_1080p_costs_167_percent_of_720p() -> None:
    assert billing.price_per_second(STANDARD, "1080p", True) == D("4.76") * D("1.67")


def test_billing_silent_flash_costs_half() -> None:
    assert billing.price_per_second(FLASH, "720p", False) == D("1.19")


def test_billing_generate_audio_does_not_change_the_standard_price() -> None:
    assert billing.price_per_second(STANDARD, "720p", False) == D("4.76")


def test_billing_cost_is_input_plus_output_seconds() -> None:
    assert billing.cost(STANDARD, D("4.76"), D(5), 5) == D("47.60")


def test_billing_cost_never_falls_below_the_minimum_charge() -> None:
    assert billing.cost(FLASH, D("1.19"), D("1"), 2) == D(9)


def test_billing_cost_rounds_half_up_to_a_hundredth() -> None:
    assert billing.cost(STANDARD, D("7.9492"), D("4.95"), 10) == D("118.84")


def test_billing_reserve_beyond_the_balance_is_a_402() -> None:
    ledger = billing.Ledger()
    ledger.apply(ledger.set_credits("k", D(10), 0.0))
    with pytest.raises(ApiError) as caught:
        ledger.reserve("k", "t", D("10.01"), 0.0)
    assert caught.value.body()["error"]["type"] == "insufficient_quota_error"


def test_billing_failure_releases_everything() -> None:
    ledger = billing.Ledger()
    ledger.apply(ledger.set_credits("k", D(100), 0.0))
    ledger.apply([ledger.reserve("k", "t", D(40), 1.0)])
    ledger.apply(ledger.settle("k", "t", D(40), None, 2.0))
    assert ledger.balance("k") == billing.Balance(D(100), D(100), D(0), D(0))


def test_billing_credits_text_has_no_exponent() -> None:
    assert [billing.credits_text(D(x)) for x in ("1E+3", "47.60", "0.00")] == ["1000", "47.6", "0"]


operations = st.lists(
    st.tuples(
        st.sampled_from(["grant", "create", "complete", "fail", "cancel"]),
        st.integers(0, 4),
        st.decimals(0, 200, places=2),
    ),
    max_size=60,
)


@given(operations)
def test_billing_ledger_always_balances(ops: list[tuple[str, int, Decimal]]) -> None:
    """granted = available + reserved + charged, over any interleaving of operations."""
    ledger = billing.Ledger()
    open_tasks: dict[str, Decimal] = {}
    entries: list[LedgerEntry] = []
    for n, (op, pick, amount) in enumerate(ops):
        if op == "grant":
            new = ledger.set_credits("k", amount, n)
        elif op == "create":
            try:
                new = [ledger.reserve("k", f"t{n}", amount, n)]
            except ApiError:
                continue
            open_tasks[f"t{n}"] = amount
        elif open_tasks:
            task_id = sorted(open_tasks)[pick % len(open_tasks)]
            reserved = open_tasks.pop(task_id)
            charge = amount if op == "complete" else None
            new = ledger.settle("k", task_id, reserved, charge, n)
        else:
            continue
        ledger.apply(new)
        entries += new
        b = ledger.balance("k")
        assert b.granted == b.available + b.reserved + b.charged
        assert b.reserved == sum(open_tasks.values(), D(0))
    assert billing.Ledger(entries).balances == ledger.balances
