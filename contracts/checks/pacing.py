"""Invariants of a client's pace: it waits as long as the server asks, and it does not
poll a task in a tight loop.

Both read real time from the journal of a ``ClientRun``: every entry carries
``wall_at``, the wall-clock second the request arrived, and ``latency_ms``, how long the
server took to answer it, so ``wall_at + latency_ms / 1000`` is when the client could
first have read the answer. Server time (``at``) says nothing here: on a stepped clock it
moves per request, not with the wall.
"""

from __future__ import annotations

import email.utils
import statistics
from collections.abc import Mapping, Sequence
from typing import Any, Final

from contracts.checks.client import ClientRun, describe
from contracts.checks.core import NotApplicable, check, fail

# Wall seconds of slack on a Retry-After: timer granularity and the two clocks a
# measurement spans; far below the 1 s an impolite client skips.
RETRY_AFTER_SLACK: Final = 0.05
ENDED: Final = frozenset({"completed", "failed"})


def answered_at(entry: Mapping[str, Any]) -> float | None:
    """Wall-clock second the answer to ``entry`` was sent (None: not recorded)."""
    wall = entry.get("wall_at")
    if wall is None:
        return None
    return float(wall) + float(entry.get("latency_ms") or 0) / 1000


def retry_after_seconds(entry: Mapping[str, Any]) -> float | None:
    """The entry's ``Retry-After`` in seconds: delay-seconds or an HTTP-date (RFC 9110
    section 10.2.3), counted from when the answer was sent; None when absent or unreadable."""
    value = entry.get("retry_after")
    if value is None:
        return None
    text = str(value).strip()
    try:
        return max(0.0, float(text))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    sent = answered_at(entry)
    return None if sent is None else max(0.0, when.timestamp() - sent)


def _is_poll(entry: Mapping[str, Any]) -> bool:
    return entry.get("method") == "GET" and str(entry.get("path", "")).startswith("/v1/tasks/")


def poll_intervals(journal: Sequence[Mapping[str, Any]]) -> list[float]:
    """Real seconds between a poll that showed its task still running (a 200 answer) and
    the client's next poll of the same task. Retries after an error answer are not polls
    of a running task: ``Retry-After`` and backoff judge those."""
    found: list[float] = []
    for index, entry in enumerate(journal):
        response = entry.get("response")
        if not _is_poll(entry) or entry.get("status") != 200 or not isinstance(response, Mapping):
            continue
        if response.get("status") in ENDED:
            continue
        sent = answered_at(entry)
        following = (e for e in journal[index + 1 :] if _is_poll(e) and e["path"] == entry["path"])
        after = next(following, None)
        if sent is None or after is None or after.get("wall_at") is None:
            continue
        found.append(float(after["wall_at"]) - sent)
    return found


def pace(intervals: Sequence[float]) -> str:
    """``polls every ≥0.050 s (median 0.200 s)``: a client's observed poll intervals."""
    if not intervals:
        return "no repeated polls"
    return f"polls every ≥{min(intervals):.3f} s (median {statistics.median(intervals):.3f} s)"


@check(ClientRun, source="RFC 9110 section 10.2.3 Retry-After; SOURCES.md 'Client verification'")
def client_honours_retry_after(run: ClientRun) -> None:
    """After an error answer with Retry-After (429, 503), the next request waits that long."""
    asked = [
        (index, seconds)
        for index, entry in enumerate(run.journal)
        if int(entry.get("status") or 0) >= 400
        and (seconds := retry_after_seconds(entry))
        and index + 1 < len(run.journal)
    ]
    if not asked:
        raise NotApplicable("no answer asked the client to wait before it called again")
    for index, seconds in asked:
        entry, after = run.journal[index], run.journal[index + 1]
        sent = answered_at(entry)
        if sent is None or after.get("wall_at") is None:
            raise NotApplicable("the journal has no wall-clock times")
        waited = float(after["wall_at"]) - sent
        if waited < seconds - RETRY_AFTER_SLACK:
            raise fail(
                f"the client called again {waited:.3f} s after {describe(entry)} said "
                f"Retry-After: {entry.get('retry_after')}",
                answer=describe(entry),
                next_request=describe(after),
                waited_seconds=round(waited, 3),
            )


@check(
    ClientRun,
    source="choice: a floor far below any sane interval (--min-poll-interval), met "
    "--tight-polls times or by the median",
)
def client_does_not_poll_tightly(run: ClientRun) -> None:
    """Polls of a running task are spaced by at least ``--min-poll-interval`` (10 ms): the
    client polls tightly when ``--tight-polls`` (3) pauses, or the median of at least that
    many, fall under the floor. One short pause is not enough: a busy machine can make a
    polite client's pause look short, never a tight client's pauses look long for long."""
    intervals = poll_intervals(run.journal)
    if not intervals:
        raise NotApplicable("the client never polled a running task twice")
    floor = run.min_poll_interval
    tight = [gap for gap in intervals if gap < floor]
    enough = len(intervals) >= run.tight_polls
    if len(tight) >= run.tight_polls or (enough and statistics.median(intervals) < floor):
        raise fail(
            f"the client polled a running task again after {min(tight) * 1000:.1f} ms, "
            f"{len(tight)} of {len(intervals)} times under the {floor:g} s floor "
            f"(median {statistics.median(intervals) * 1000:.1f} ms): it polls with no pause",
            intervals=pace(intervals),
        )
