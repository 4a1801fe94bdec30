"""Invariants of the documented fields a task object must carry, not only may carry.

``task_shape`` judges the types of whatever fields are present; these say which must be
there at all: the create answer's ``usage`` and ``task_info.estimated_time`` ([REF]
"Usage and billing information", [I2V] ``Usage`` and ``VideoTaskInfo``), and ``usage``
again on every later answer of the same task, since the create answer, the query and
the callback are one task object (SOURCES.md "Task object").
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from contracts import schemas
from contracts.checks.core import TaskHistory, check, fail

#: ``usage`` and its three documented fields, all required ([I2V] ``Usage``).
USAGE: Final = {
    "type": "object",
    "required": ["billing_rule", "credits_reserved", "user_group"],
    "properties": schemas.TASK["properties"]["usage"]["properties"],
}


def _usage_problems(task: Mapping[str, Any]) -> list[str]:
    if "usage" not in task:
        return ["$.usage: missing"]
    return schemas.problems(task["usage"], USAGE, "$.usage")


@check(TaskHistory, source="[REF] Response: Usage and billing information, [I2V] Usage")
def usage_reported(history: TaskHistory) -> None:
    """Every task object (the create answer and each poll) carries ``usage`` with
    ``billing_rule``, ``credits_reserved`` and ``user_group``."""
    for index, task in enumerate(history.observations):
        found = _usage_problems(task)
        if found:
            where = "the create answer" if index == 0 else f"poll {index}"
            raise fail(
                f"{where} has no documented usage",
                observation=index,
                problems=found,
                task=task,
            )


@check(TaskHistory, source="[I2V] VideoTaskInfo estimated_time, [REF] Response")
def estimated_time_at_create(history: TaskHistory) -> None:
    """The create answer says how long the task should take: ``task_info.estimated_time``."""
    if not history.observations:
        return
    first = history.observations[0]
    info = first.get("task_info")
    estimate = info.get("estimated_time") if isinstance(info, Mapping) else None
    if not isinstance(estimate, int) or isinstance(estimate, bool) or estimate < 0:
        raise fail(
            "the create answer has no task_info.estimated_time (an integer >= 0)",
            task_info=info,
        )
