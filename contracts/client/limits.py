"""How long one run of a client may go on, and the watchdog that stops it.

A run ends as *not terminating* (``client_terminates``) when it passes its wall-clock
limit, its request budget, or keeps polling a task that has ended. The search uses the
user's limits (``--timeout``, ``--max-requests``). Once a failure of that class is known,
shrinking only needs to see it again, so each rerun gets what reproduces it and no more:
a request budget of what an honest client needs in that world plus a margin, a few polls
after the end, and a few seconds (SOURCES.md "Client verification", bounded time). A
runaway is never replayed at full length again and again.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from contracts.client.timing import monotonic
from contracts.client.world import ServerWorld

AFTER_END_POLLS: Final = 10  # polls of an ended task before a run counts as not stopping
SHRINK_AFTER_END_POLLS: Final = 3
SHRINK_MARGIN: Final = 40  # requests beyond what an honest client needs, while shrinking
SHRINK_MIN_SECONDS: Final = 5.0
JOURNAL_EVERY: Final = 2  # watchdog ticks (of 50 ms) between looks at the journal
ENDED: Final = frozenset({"completed", "failed"})


@dataclass(frozen=True)
class Limits:
    """What one run may spend: wall ``seconds``, API ``requests``, polls ``after_end``."""

    seconds: float
    requests: int
    after_end: int = AFTER_END_POLLS


def honest_requests(world: ServerWorld, step: float) -> int:
    """Requests a client that polls as fast as it likes needs in ``world``: one per
    ``step`` of the task's life, one per transient answer, and a few to spare."""
    life = world.queue_seconds + world.processing_seconds
    transients = sum(t.times for t in (*world.create_errors, *world.poll_errors))
    return math.ceil(life / step) + transients + world.fault_count + 10


def shrink_limits(
    user: Limits, world: ServerWorld, step: float, slowest_pass: float, terminates: bool
) -> Limits:
    """Limits for a shrinking rerun. ``terminates``: the known failure is a client that
    does not stop; then a rerun needs only to see that again. Other failures keep the
    user's limits (their runs are ordinary ones)."""
    if not terminates:
        return user
    return Limits(
        seconds=min(user.seconds, max(SHRINK_MIN_SECONDS, 3 * slowest_pass)),
        requests=min(user.requests, honest_requests(world, step) + SHRINK_MARGIN),
        after_end=SHRINK_AFTER_END_POLLS,
    )


def polls_after_end(journal: Sequence[Mapping[str, Any]]) -> int:
    """The most polls the client made of one task that already showed it had ended."""
    counts: Counter[str] = Counter()
    for entry in journal:
        response = entry.get("response")
        if (
            entry.get("method") == "GET"
            and entry.get("status") == 200
            and isinstance(response, Mapping)
            and response.get("status") in ENDED
        ):
            counts[str(entry.get("path"))] += 1
    # The first poll that shows the end is how a client learns it: not a runaway.
    return max(counts.values(), default=1) - 1


def watchdog(
    control: Callable[[str], Any], start: float, step: float, limits: Limits
) -> Callable[[], str | None]:
    """``runaway()`` for the runner: asked every 50 ms, it names why the client must be
    stopped, or None. ``control(path)`` GETs the fake's control API."""
    started = monotonic()
    ticks = 0

    def runaway() -> str | None:
        nonlocal ticks
        ticks += 1
        now = float(control("/clock")["now"])
        made = round((now - start) / step)
        if made > limits.requests:
            return (
                f"{made} API requests in {monotonic() - started:.1f} s "
                f"(the limit is {limits.requests}; an honest client needs a few dozen)"
            )
        if ticks % JOURNAL_EVERY == 0:
            recent = control(f"/requests?limit={4 * limits.after_end + 8}")["requests"]
            after = polls_after_end(recent)
            if after >= limits.after_end:
                return (
                    f"it kept polling a task that had ended ({after} more polls in "
                    f"{monotonic() - started:.1f} s)"
                )
        return None

    return runaway
