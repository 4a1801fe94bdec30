"""Invariants of money: charged only on success, by the documented rules, within the
reservation. Prices come from ``contracts/pricing.py``, an oracle independent of the fake.

Two signals may be at hand: each task's own charge (wanmock's ledger) and how far the
key's balance fell over the batch (``GET /v1/credits``); every signal present is judged.
"""

from __future__ import annotations

from decimal import Decimal

from contracts.checks.core import NotApplicable, Settlement, check, fail
from contracts.pricing import expected_charge

ZERO = Decimal("0")


@check(Settlement, source="[REF] only charged after successful generation")
def charge_only_on_success(settlement: Settlement) -> None:
    """A failed task costs nothing; a completed one costs something."""
    known = [t for t in settlement.tasks if t.charged is not None]
    for task in known:
        if task.status == "failed" and task.charged:
            raise fail("a failed task was charged", task_id=task.task_id, charged=task.charged)
        if task.status == "completed" and not task.charged:
            raise fail("a completed task was not charged", task_id=task.task_id)
    delta = settlement.balance_delta
    if not known and delta is None:
        raise NotApplicable("no charge was observable (no /v1/credits, no control API)")
    if delta and all(t.status == "failed" for t in settlement.tasks):
        raise fail(
            "the balance fell although every task failed",
            credits_taken=delta,
            tasks=[t.task_id for t in settlement.tasks],
        )


@check(Settlement, source="[REF] input caps, [PRICE] rates")
def billing_matches_rules(settlement: Settlement) -> None:
    """Each success costs (capped input + output seconds) x the published rate."""
    if any(t.reference_seconds is None for t in settlement.tasks):
        raise NotApplicable("reference lengths unknown")
    expected = {
        t.task_id: expected_charge(t.request, t.reference_seconds or ())
        if t.status == "completed"
        else ZERO
        for t in settlement.tasks
    }
    known = [t for t in settlement.tasks if t.charged is not None]
    for task in known:
        if task.charged != expected[task.task_id]:
            raise fail(
                "the charge breaks the billing rules",
                task_id=task.task_id,
                charged=task.charged,
                expected=expected[task.task_id],
                request=dict(task.request),
                reference_seconds=[str(s) for s in task.reference_seconds or ()],
            )
    total = sum(expected.values(), ZERO)
    if settlement.balance_delta is not None and settlement.balance_delta != total:
        raise fail(
            "the balance fell by other than the billing rules say",
            credits_taken=settlement.balance_delta,
            expected=total,
            per_task={k: str(v) for k, v in expected.items()},
        )
    if not known and settlement.balance_delta is None:
        raise NotApplicable("no per-task charges and no balance to compare")


@check(Settlement, source="[I2V] pre-charged, then the seconds actually generated")
def charge_within_reservation(settlement: Settlement) -> None:
    """No task is charged more than ``usage.credits_reserved`` said at create."""
    judged = [t for t in settlement.tasks if t.charged is not None and t.reserved is not None]
    if not judged:
        raise NotApplicable("no per-task charge and reservation")
    for task in judged:
        assert task.charged is not None and task.reserved is not None
        if task.charged > task.reserved:
            raise fail(
                "charged more than reserved",
                task_id=task.task_id,
                charged=task.charged,
                reserved=task.reserved,
            )
