"""More broken providers, one documented rule each, as answer rewrites for ``Rewrite``
(``tests/providers.py``): together with those in ``tests/test_verify_provider.py`` they
cover every check family the provider verifier runs."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import Any

from tests.providers import Answer

Rewriter = Callable[[Answer], None]


def _task(answer: Answer) -> dict[str, Any] | None:
    body = answer.body
    if isinstance(body, dict) and body.get("object") == "video.generation.task":
        return body
    return None


def _poll(answer: Answer) -> dict[str, Any] | None:
    return _task(answer) if answer.path.startswith("/v1/tasks/") else None


def string_error_code(answer: Answer) -> None:
    """``error.code`` as a string, not the HTTP status."""
    error = answer.body.get("error") if isinstance(answer.body, dict) else None
    if answer.status >= 400 and isinstance(error, dict):
        error["code"] = str(error.get("code"))


def cancellable_when_ended(answer: Answer) -> None:
    """``can_cancel`` stays true once the task ended."""
    task = _poll(answer)
    if task and task.get("status") in ("completed", "failed"):
        task["task_info"]["can_cancel"] = True


def progress_falls() -> Rewriter:
    """The first two polls of a task say processing, at 80 % and then at 40 %."""
    seen: Counter[str] = Counter()

    def rewrite(answer: Answer) -> None:
        task = _poll(answer)
        if task is None:
            return
        seen[task["id"]] += 1
        if seen[task["id"]] <= 2:
            task.update(status="processing", progress=120 - 40 * seen[task["id"]])
            task.pop("results", None)
            task.pop("error", None)
            task["task_info"]["can_cancel"] = True

    return rewrite


def no_results(answer: Answer) -> None:
    """A completed task without its result links."""
    task = _poll(answer)
    if task and task.get("status") == "completed":
        task.pop("results", None)


def failed_without_error(answer: Answer) -> None:
    """A failed task that does not say why."""
    task = _poll(answer)
    if task and task.get("status") == "failed":
        task.pop("error", None)


def id_changes() -> Rewriter:
    """The task's id changes from the second poll on."""
    seen: Counter[str] = Counter()

    def rewrite(answer: Answer) -> None:
        task = _poll(answer)
        if task:
            seen[task["id"]] += 1
            if seen[task["id"]] > 1:
                task["id"] = task["id"][:-1] + ("y" if task["id"].endswith("x") else "x")

    return rewrite


def no_estimate(answer: Answer) -> None:
    """The create answer without ``task_info.estimated_time``."""
    task = _task(answer)
    if task and answer.method == "POST":
        task["task_info"].pop("estimated_time", None)


def not_a_video(answer: Answer) -> None:
    """Result links lead to a JSON document (the fake's health), not to a video."""
    task = _poll(answer)
    if task and task.get("results"):
        task["results"] = [url.split("/results/")[0] + "/_mock/health" for url in task["results"]]


def files_not_listed(answer: Answer) -> None:
    """The file list is always empty."""
    data = answer.body.get("data") if isinstance(answer.body, dict) else None
    if answer.path.startswith("/api/v1/files/list") and isinstance(data, dict):
        data.update(files=[], total=0)


def credits_as_text(answer: Answer) -> None:
    """``GET /v1/credits`` gives the balance as words."""
    data = answer.body.get("data") if isinstance(answer.body, dict) else None
    if answer.path == "/v1/credits" and isinstance(data, dict) and "token" in data:
        data["token"]["remaining_credits"] = "plenty"


def upload_without_url(answer: Answer) -> None:
    """An upload's answer lacks ``file_url``."""
    data = answer.body.get("data") if isinstance(answer.body, dict) else None
    if answer.path.startswith("/api/v1/files/upload") and isinstance(data, dict):
        data.pop("file_url", None)


def polls_not_found(answer: Answer) -> None:
    """A task just created cannot be polled."""
    if _poll(answer):
        answer.status = 404
        answer.body = {
            "error": {"code": 404, "message": "Task not found", "type": "not_found_error"}
        }


def wrong_object(answer: Answer) -> None:
    """Task objects say they are ``video.task``."""
    task = _task(answer)
    if task:
        task["object"] = "video.task"


#: name -> (rewrite, credits to allow, the rule the verifier must name)
BROKEN: dict[str, tuple[Callable[[], Rewriter], str, str]] = {
    "string error code": (lambda: string_error_code, "0", "[error_code_is_status]"),
    "cancellable when ended": (lambda: cancellable_when_ended, "10", "[can_cancel_consistent]"),
    "progress falls": (progress_falls, "10", "[progress_monotone] progress fell from 80 to 40"),
    "completed without results": (lambda: no_results, "30", "[results_only_when_completed]"),
    "failed without error": (lambda: failed_without_error, "10", "[error_only_when_failed]"),
    "id changes": (id_changes, "10", "[task_identity_stable] id changed between polls"),
    "no estimate at create": (lambda: no_estimate, "10", "[estimated_time_at_create]"),
    "results are not videos": (lambda: not_a_video, "30", "[result_is_video]"),
    "uploads not listed": (lambda: files_not_listed, "0", "[files_listed]"),
    "credits as text": (lambda: credits_as_text, "0", "[credits_shape]"),
    "upload without file_url": (lambda: upload_without_url, "0", "[file_envelope_shape]"),
    "own task not found": (lambda: polls_not_found, "10", "[own_task_readable]"),
    "wrong object": (lambda: wrong_object, "10", "[task_shape]"),
}
