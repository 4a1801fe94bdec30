"""The documented billing rules, restated independently of the fake's ``billing.py``.

Why a second copy of the arithmetic: a check that reused the fake's own code could never
catch the fake getting it wrong. The numbers (caps, rates, factors, minimum) are facts and
live once, in ``contracts/facts.py``; the fake reads the same table. This module is the
oracle the billing checks compare charges with, on the fake and on a real endpoint alike;
``tests/test_checks.py`` shows the fake's arithmetic agrees with it. Facts: SOURCES.md
"Billing and prices" ([REF] caps and "charged only on success", [PRICE] rates, quality
factor, silent flash, minimum).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Final

from contracts.facts import INPUT_CAPS, MINIMUM_CHARGE, PRICES, QUALITY_FACTOR, ModelPrice

#: Charges are rounded half-up to a hundredth of a credit (a **choice**, SOURCES.md).
CENT: Final = Decimal("0.01")


def billed_input_seconds(reference_seconds: Sequence[Decimal]) -> Decimal:
    """Each reference truncated to the cap for their number, summed ([REF])."""
    cap = INPUT_CAPS[len(reference_seconds)]
    return sum((min(Decimal(s), cap) for s in reference_seconds), Decimal("0"))


def wants_audio(request: Mapping[str, Any]) -> bool:
    """``generate_audio`` at the top level, else in ``model_params``, else true ([PARAMS])."""
    top = request.get("generate_audio")
    if isinstance(top, bool):
        return top
    params = request.get("model_params")
    nested = params.get("generate_audio") if isinstance(params, Mapping) else None
    return nested if isinstance(nested, bool) else True


def expected_charge(
    request: Mapping[str, Any],
    reference_seconds: Sequence[Decimal],
    prices: Mapping[str, ModelPrice] = PRICES,
) -> Decimal:
    """Credits a successful task of ``request`` costs: (capped input + output seconds) x
    rate x quality factor (x silent factor), half-up to a hundredth, at least the minimum."""
    price = prices[str(request.get("model"))]
    per_second = price.rate * QUALITY_FACTOR[str(request.get("quality") or "720p")]
    if price.silent_factor is not None and not wants_audio(request):
        per_second *= price.silent_factor
    seconds = billed_input_seconds(reference_seconds) + int(request.get("duration") or 5)
    exact = (per_second * seconds).quantize(CENT, rounding=ROUND_HALF_UP)
    return max(MINIMUM_CHARGE, exact)


def as_credits(value: Any) -> Decimal | None:
    """A JSON number of credits as ``Decimal`` (via its text: no binary rounding)."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    try:
        return Decimal(str(value))
    except ArithmeticError:
        return None
