"""Invariants of one task's history: shape, identity, status, progress, results, errors."""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping
from typing import Any, Final

from contracts import facts, schemas
from contracts.checks.core import TaskHistory, check, fail


def _seen(task: Mapping[str, Any]) -> dict[str, Any]:
    info = task.get("task_info")
    return {
        "status": task.get("status"),
        "progress": task.get("progress"),
        "can_cancel": info.get("can_cancel") if isinstance(info, Mapping) else None,
    }


def _pairs(history: TaskHistory) -> Iterable[tuple[int, Mapping[str, Any], Mapping[str, Any]]]:
    seen = history.observations
    return ((i, seen[i - 1], seen[i]) for i in range(1, len(seen)))


@check(TaskHistory, source="[REF], [Q], [I2V]")
def task_shape(history: TaskHistory) -> None:
    """Every task object has the documented fields, types and ranges."""
    for index, task in enumerate(history.observations):
        found = schemas.problems(task, schemas.TASK)
        if found:
            raise fail(
                "a task object does not have the documented shape",
                observation=index,
                problems=found,
                task=task,
            )


@check(TaskHistory, source="[Q]")
def task_identity_stable(history: TaskHistory) -> None:
    """``id``, ``created`` and ``model`` never change; the model is the one requested."""
    for index, before, after in _pairs(history):
        for name in ("id", "created", "model"):
            if before.get(name) != after.get(name):
                raise fail(
                    f"{name} changed between polls",
                    observation=index,
                    before=before.get(name),
                    after=after.get(name),
                )
    wanted = (history.request or {}).get("model")
    got = history.observations[0].get("model") if history.observations else None
    if wanted is not None and got != wanted:
        raise fail("the task's model is not the one requested", requested=wanted, model=got)


_RANK: Final = {"pending": 0, "processing": 1, "completed": 2, "failed": 2}


@check(TaskHistory, source="[Q] status enum")
def status_monotone(history: TaskHistory) -> None:
    """pending -> processing -> completed | failed, never backwards; an ended task stays."""
    for index, before, after in _pairs(history):
        old, new = before.get("status"), after.get("status")
        ended = old in facts.TERMINAL_STATUSES and new != old
        if ended or _RANK.get(str(new), -1) < _RANK.get(str(old), -1):
            raise fail(
                f"status went from {old!r} to {new!r}",
                observation=index,
                before=_seen(before),
                after=_seen(after),
            )


@check(TaskHistory, source="[Q]")
def progress_monotone(history: TaskHistory) -> None:
    """Progress never falls (a failed task's progress is undocumented, so not judged)."""
    live = [(i, t) for i, t in enumerate(history.observations) if t.get("status") != "failed"]
    for (_, before), (index, after) in itertools.pairwise(live):
        old, new = before.get("progress"), after.get("progress")
        if isinstance(old, int) and isinstance(new, int) and new < old:
            raise fail(
                f"progress fell from {old} to {new}",
                observation=index,
                before=_seen(before),
                after=_seen(after),
            )


@check(TaskHistory, source="[Q], [REF]")
def results_only_when_completed(history: TaskHistory) -> None:
    """A completed task has result URLs and progress 100; no other task has results."""
    for index, task in enumerate(history.observations):
        status, results = task.get("status"), task.get("results")
        if status == "completed" and not (isinstance(results, list) and results):
            raise fail("a completed task has no results", observation=index, task=task)
        if status == "completed" and task.get("progress") != 100:
            raise fail("a completed task's progress is not 100", observation=index, task=task)
        if status != "completed" and results:
            raise fail(f"a {status} task has results", observation=index, results=results)


@check(TaskHistory, source="[CLIENT] TaskResponse, [REF]")
def error_only_when_failed(history: TaskHistory) -> None:
    """A failed task says why in ``error`` {code, message}; no other task has an error."""
    for index, task in enumerate(history.observations):
        status, error = task.get("status"), task.get("error")
        if status == "failed":
            ok = isinstance(error, Mapping) and all(
                isinstance(error.get(k), str) for k in ("code", "message")
            )
            if not ok:
                raise fail(
                    "a failed task has no error {code, message}", observation=index, error=error
                )
        elif error is not None:
            raise fail(f"a {status} task has an error", observation=index, error=error)


@check(TaskHistory, source="[Q] task_info.can_cancel")
def can_cancel_consistent(history: TaskHistory) -> None:
    """``task_info.can_cancel`` is true while pending or processing, false once ended."""
    for index, task in enumerate(history.observations):
        seen = _seen(task)
        if seen["status"] in _RANK and seen["can_cancel"] is not (
            seen["status"] not in facts.TERMINAL_STATUSES
        ):
            raise fail(
                f"can_cancel is {seen['can_cancel']!r} on a {seen['status']} task",
                observation=index,
                task=seen,
            )
