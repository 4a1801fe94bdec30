"""The records the store's Protocol speaks in, beside it (store/protocols.py): what a
caller gets back or catches, whichever database holds the data."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from mock_server.domain.models import LedgerEntry


class StoreError(Exception):
    """The store cannot be used as it is (a newer layout, a bad URL); the message says why."""


class StoreUnavailable(StoreError):
    """The database cannot do what was asked now (a full or read-only disk, a PostgreSQL
    server gone); the same request may work later. Nothing was committed by the
    transaction that raised it, and the HTTP layer answers it with 503 and
    ``Retry-After`` (docs/deployment.md "When the database fails")."""


class StoreClosedError(Exception):
    """The store was used after ``close``: a caller shutting down may meet it and give up."""


class Lost(Exception):
    """A conditional change found the row changed: the transaction rolls back."""


@dataclass(frozen=True, slots=True)
class State:
    """What every process agrees on, read in one query."""

    rev: int
    epoch: int
    keys_rev: int
    scenarios_rev: int
    clock_now: float | None
    clock_start: float | None
    seed: int | None
    secret: str | None
    scenarios_loaded: bool


# One outbox row: task id, url, body, first attempt due.
CallbackRow = tuple[str, str, bytes, float]

# Given a key and its available credits now, the grant entries that set them.
Grants = Callable[[str, Decimal], list[LedgerEntry]]


def reason(exc: BaseException) -> str:
    """A driver's message on one line (some span several), for a fault's one log line."""
    return " ".join(str(exc).split()) or type(exc).__name__
