"""Price math and the ledger: pure Python, ``Decimal`` throughout.

The real rules (SOURCES.md "Billing"): credits are charged only on success, for input
seconds plus output seconds at a per-second price that depends on quality; each reference
counts up to a cap that depends on how many there are. The fake reserves the estimate at
create and, when the task ends, releases the reservation and (on success only) charges.
So for every key, at every moment: granted = available + reserved + charged.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from decimal import ROUND_HALF_UP, Decimal

from contracts import facts
from mock_server.domain.catalog import ModelProfile
from mock_server.domain.errors import ApiError
from mock_server.domain.models import CreateRequest, LedgerEntry

ZERO = Decimal("0")
CENT = Decimal("0.01")
# A balance beyond this is a typo; Decimal arithmetic stays exact far below it.
MAX_CREDITS = Decimal("1e15")


def price_per_second(model: ModelProfile, quality: str, generate_audio: bool) -> Decimal:
    price = model.rate * facts.QUALITY_FACTOR[quality]
    if model.audio_optional and not generate_audio:
        price *= model.silent_price_factor
    return price


def input_seconds(reference_seconds: Sequence[Decimal]) -> Decimal:
    """Billed input seconds: each reference truncated to the cap for their number."""
    cap = facts.INPUT_CAPS[len(reference_seconds)]
    return sum((min(seconds, cap) for seconds in reference_seconds), ZERO)


def cost(
    model: ModelProfile, price: Decimal, billed_input: Decimal, output_seconds: int
) -> Decimal:
    """Credits for one successful task, rounded half-up to a hundredth, never below the
    model's minimum charge (SOURCES.md "Prices")."""
    exact = price * (billed_input + output_seconds)
    return max(model.minimum_charge, exact.quantize(CENT, rounding=ROUND_HALF_UP))


def credits_text(amount: Decimal) -> str:
    """Credits as a plain decimal string: ``47.6``, ``1000``, never ``1E+3``."""
    text = format(amount.normalize(), "f")
    return "0" if text in ("-0", "0") else text


def request_cost(model: ModelProfile, request: CreateRequest, billed_input: Decimal) -> Decimal:
    """What ``request`` costs if it succeeds: reserved at create, charged on success."""
    price = price_per_second(model, request.quality, request.generate_audio)
    return cost(model, price, billed_input, request.duration)


def as_json_number(amount: Decimal) -> int | float:
    """Credits as the real API shows them: a JSON number, whole when it is whole."""
    return int(amount) if amount == amount.to_integral_value() else float(amount)


def parse_credits(value: object) -> Decimal:
    """Credits given as a string or number; never a float's binary rounding."""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise ValueError('credits must be a decimal string such as "100"')
    try:
        amount = Decimal(str(value))
    except ArithmeticError:
        raise ValueError(f"credits must be a decimal number, got {value!r}") from None
    if not amount.is_finite() or not 0 <= amount <= MAX_CREDITS:
        raise ValueError(f"credits must be a number from 0 to {MAX_CREDITS}, got {value!r}")
    return amount


def insufficient_credits() -> ApiError:
    """The real 402 (SOURCES.md "HTTP errors")."""
    return ApiError(402, facts.INSUFFICIENT_QUOTA_MESSAGE, fallback_suggestion=facts.BILLING_URL)


@dataclass(slots=True)
class Balance:
    granted: Decimal = ZERO
    available: Decimal = ZERO
    reserved: Decimal = ZERO
    charged: Decimal = ZERO

    def to_json(self) -> dict[str, str]:
        return {
            "credits": credits_text(self.available),
            "granted": credits_text(self.granted),
            "reserved": credits_text(self.reserved),
            "charged": credits_text(self.charged),
        }


# How each kind of entry moves credits between a key's accounts:
# (granted, available, reserved, charged) multipliers of the entry's amount.
MOVES: dict[str, tuple[int, int, int, int]] = {
    "grant": (1, 1, 0, 0),
    "reserve": (0, -1, 1, 0),
    "release": (0, 1, -1, 0),
    "charge": (0, -1, 0, 1),
}


def reservation(key: str, task_id: str, amount: Decimal, at: float) -> LedgerEntry:
    """What a create holds back; the store numbers it and refuses it when short."""
    return LedgerEntry(0, at, key, "reserve", amount, task_id)


def settlement(
    key: str, task_id: str, reserved: Decimal, charge: Decimal | None, at: float
) -> list[LedgerEntry]:
    """End a task's reservation; ``charge`` is None when it did not succeed."""
    entries = [LedgerEntry(0, at, key, "release", reserved, task_id)]
    if charge is not None:
        entries.append(LedgerEntry(0, at, key, "charge", charge, task_id))
    return entries


def credit_grants(key: str, credits: Decimal, available: Decimal, at: float) -> list[LedgerEntry]:
    """The signed grant that makes ``key``'s available credits exactly ``credits``."""
    delta = credits - available
    if delta == 0:
        return []
    return [LedgerEntry(0, at, key, "grant", delta, note="set by configuration")]


class Ledger:
    """Balances derived from entries: the pure model of the ledger, which the store's
    transactions implement (tests hold the two to the same answers).

    Methods return new entries without applying them; ``apply`` adds them.
    """

    def __init__(self, entries: Iterable[LedgerEntry] = ()) -> None:
        self.balances: dict[str, Balance] = {}
        self._seq = 0
        self.apply(entries)

    def apply(self, entries: Iterable[LedgerEntry]) -> None:
        for entry in entries:
            balance = self.balances.setdefault(entry.key, Balance())
            g, a, r, c = MOVES[entry.kind]
            balance.granted += g * entry.amount
            balance.available += a * entry.amount
            balance.reserved += r * entry.amount
            balance.charged += c * entry.amount
            self._seq = max(self._seq, entry.seq)

    def _numbered(self, entries: list[LedgerEntry]) -> list[LedgerEntry]:
        numbered = []
        for entry in entries:
            self._seq += 1
            numbered.append(replace(entry, seq=self._seq))
        return numbered

    def balance(self, key: str) -> Balance:
        return self.balances.get(key, Balance())

    def set_credits(self, key: str, credits: Decimal, at: float) -> list[LedgerEntry]:
        """Make ``key``'s available credits exactly ``credits`` (a signed grant)."""
        return self._numbered(credit_grants(key, credits, self.balance(key).available, at))

    def reserve(self, key: str, task_id: str, amount: Decimal, at: float) -> LedgerEntry:
        if amount > self.balance(key).available:
            raise insufficient_credits()
        return self._numbered([reservation(key, task_id, amount, at)])[0]

    def settle(
        self, key: str, task_id: str, reserved: Decimal, charge: Decimal | None, at: float
    ) -> list[LedgerEntry]:
        """End a task's reservation; ``charge`` is None when it did not succeed."""
        return self._numbered(settlement(key, task_id, reserved, charge, at))
