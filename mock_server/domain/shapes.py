"""Scenario effects that shape a task's life and what its answers show, read from JSON.

* ``results_count``: a completed task shows that many result links (the documented
  ``results`` is an array; SOURCES.md "Client verification");
* ``progress_points``: ``[[fraction_of_processing, progress], ...]``: progress moves in
  steps (it stays at 0, jumps, sits on a plateau), never backwards;
* ``estimated_time``: what ``task_info.estimated_time`` starts at, however long the task
  really takes (processing may outlast it).

Each parser validates eagerly and raises the real API's 400 naming the field.
"""

from __future__ import annotations

from typing import Any, Final

from mock_server.domain.errors import invalid

MAX_RESULTS: Final = 20  # result links a completed task may show (the array has no cap)
MAX_POINTS: Final = 32
MAX_ESTIMATE: Final = 30 * 86400

Points = tuple[tuple[float, int], ...]


def _whole(value: object, low: int, high: int) -> bool:
    return not isinstance(value, bool) and isinstance(value, int) and low <= value <= high


def parse_shapes(spec: dict[str, Any], values: dict[str, Any]) -> None:
    """Read the shaping effects present in ``spec`` into ``values``."""
    count = spec.get("results_count")
    if count is not None:
        if not _whole(count, 1, MAX_RESULTS):
            raise invalid(
                "effect.results_count", f"results_count must be an integer from 1 to {MAX_RESULTS}"
            )
        values["results_count"] = count
    estimate = spec.get("estimated_time")
    if estimate is not None:
        if not _whole(estimate, 0, MAX_ESTIMATE):
            raise invalid(
                "effect.estimated_time",
                f"estimated_time must be an integer from 0 to {MAX_ESTIMATE} (seconds)",
            )
        values["estimated_time"] = estimate
    if spec.get("progress_points") is not None:
        values["progress_points"] = parse_points(spec["progress_points"])


def parse_points(spec: object) -> Points:
    """``[[fraction, progress], ...]``: fraction of processing 0–1, progress 0–99;
    sorted by fraction, and each progress raised to the highest before it (monotone)."""
    where = "effect.progress_points"
    if not isinstance(spec, list) or not 0 < len(spec) <= MAX_POINTS:
        raise invalid(where, f"progress_points must be a list of 1 to {MAX_POINTS} points")
    points = []
    for point in spec:
        ok = isinstance(point, list | tuple) and len(point) == 2
        fraction, progress = point if ok else (None, None)
        ok = ok and isinstance(fraction, int | float) and not isinstance(fraction, bool)
        if not (ok and 0 <= float(fraction) <= 1 and _whole(progress, 0, 99)):  # type: ignore[arg-type]
            raise invalid(
                where, "each progress point is [fraction of processing 0-1, progress 0-99]"
            )
        points.append((float(fraction), int(progress)))  # type: ignore[arg-type]
    points.sort()
    highest, monotone = 0, []
    for fraction, progress in points:
        highest = max(highest, progress)
        monotone.append((fraction, highest))
    return tuple(monotone)


def stepped_progress(points: Points, fraction: float) -> int:
    """Progress at ``fraction`` of processing: the last point reached, 0 before any."""
    reached = 0
    for at, progress in points:
        if at > fraction:
            break
        reached = progress
    return reached
