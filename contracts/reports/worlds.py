"""What verify-client's JSON report says about worlds: each one tried and the shrunk one.

Plain data from the verifier's own records (``contracts.client.options.Example``), so
the JSON holds every world the client met (search, shrinking and the last greedy steps),
the smallest world that broke it with its scenario rules, and where the replay went.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

if TYPE_CHECKING:
    from contracts.client.options import Example


def world_json(example: Example, phase: str, number: int | None) -> dict[str, Any]:
    """One run of the client: the world, the request, what the client said, what broke."""
    attempt, run = example.attempt, example.run
    return {
        "number": number,  # as printed in "Examples"; None for shrinking runs
        "phase": phase,  # search | shrink | polish
        "description": example.case.world.describe("callback_url" in run.request),
        "world": example.case.world.to_json(),
        "request": dict(run.request),
        "outcome": attempt.outcome.to_json() if attempt.outcome else None,
        "problem": attempt.problem,
        "requests": len(run.journal),
        "seconds": round(attempt.seconds, 3),
        "broke": [
            {"check": v.check, "source": v.source, "message": v.message, **_gave_up(v.evidence)}
            for v in example.violations
        ],
    }


GAVE_UP: Final = ("request_kind", "failures_in_a_row")  # where a client gave up, and when


def _gave_up(evidence: Mapping[str, Any]) -> dict[str, Any]:
    """A give-up verdict's request kind (create or poll) and failures in a row, as fields."""
    return {name: evidence[name] for name in GAVE_UP if name in evidence}


def shrunk_json(failure: Example | None, replay_file: Path | None) -> dict[str, Any]:
    """The smallest breaking world with its scenario rules, and the replay files' paths."""
    if failure is None:
        return {"shrunk": None, "replay_file": None, "journal_file": None}
    shown = world_json(failure, "shrunk", None)
    shown["rules"] = failure.case.world.rules()
    return {
        "shrunk": shown,
        "replay_file": str(replay_file) if replay_file is not None else None,
        "journal_file": str(replay_file.with_suffix(".journal.json")) if replay_file else None,
    }
