"""One callback attempt's rules, shared by the outbox (when) and the sender (how).

The schedule is the real service's, written once in the contract's facts
(``contracts.facts.CALLBACK_TIMEOUT_SECONDS`` and ``CALLBACK_RETRY_DELAYS``, SOURCES.md
"Callbacks"): a 10 s timeout; a 2xx answer ends delivery; anything else is retried 1, 2
and 4 s after each failure, at most 4 attempts. Kept apart so the outbox and the sender
need not import each other.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Protocol

from contracts.facts import CALLBACK_RETRY_DELAYS, CALLBACK_TIMEOUT_SECONDS

MAX_ATTEMPTS: Final = len(CALLBACK_RETRY_DELAYS) + 1


@dataclass(frozen=True, slots=True)
class Answer:
    """What one attempt got: an HTTP status, or an error.

    ``kind`` is ``status`` (the receiver answered), ``timeout``, ``connect`` (refused or
    unreachable), ``tls``, ``dns``, ``refused`` (the SSRF guard), ``protocol`` or
    ``internal``; ``address`` is the peer actually connected to.
    """

    status: int | None = None
    error: str | None = None
    kind: str = "status"
    address: str | None = None
    latency_ms: float = 0.0

    @property
    def delivered(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


class Sender(Protocol):
    async def send(self, url: str, body: bytes, number: int, wall_limit: float) -> Answer:
        """POST ``body`` to ``url`` (attempt ``number``), waiting at most ``wall_limit``
        real seconds; never raises."""
        ...


def retry_due(number: int, failed_at: float) -> float | None:
    """When attempt ``number + 1`` is due after attempt ``number`` failed at
    ``failed_at``; None when ``number`` was the last."""
    if number >= MAX_ATTEMPTS:
        return None
    return failed_at + CALLBACK_RETRY_DELAYS[number - 1]


def attempt_end(started: float, now: float, answer: Answer) -> float:
    """The server instant an attempt ended: a timeout ends the full 10 s after it began,
    even on a virtual clock that stood still meanwhile."""
    return max(now, started + CALLBACK_TIMEOUT_SECONDS) if answer.kind == "timeout" else now
