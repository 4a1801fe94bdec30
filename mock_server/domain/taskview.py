"""The task object exactly as the real API shows it (SOURCES.md "Task object").

One function builds it for the poll, the create answer and the callback body alike, so
a callback is byte-for-byte what a poll at the same instant returns.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

from contracts import facts
from mock_server.domain.billing import as_json_number
from mock_server.domain.catalog import ModelProfile
from mock_server.domain.lifecycle import Observation
from mock_server.domain.models import Task

# A failed task's ``error.type`` by code; codes not listed carry no type (the real API
# sends one only sometimes, SOURCES.md "Failed tasks").
ERROR_CODE_TYPES: dict[str, str] = {
    "content_policy_violation": "invalid_request_error",
    "invalid_parameters": "invalid_request_error",
    "request_cancelled": "invalid_request_error",
    "quota_exceeded": "insufficient_quota_error",
    "generation_timeout": "upstream_error",
    "service_error": "upstream_error",
    "service_unavailable": "service_unavailable_error",
}


def result_signature(secret: bytes, path: str, expires: int) -> str:
    return hmac.new(secret, f"{path}:{expires}".encode(), hashlib.sha256).hexdigest()[:32]


def result_path(task_id: str, index: int) -> str:
    return f"/results/{task_id}-{index}.mp4"


def result_urls(task: Task, base_url: str, secret: bytes) -> list[str]:
    """Signed links valid 24 hours after completion, like the real storage's URLs."""
    expires = int(task.plan.finish) + facts.RESULT_TTL_SECONDS
    paths = [result_path(task.id, index) for index in range(task.plan.results)]
    return [
        f"{base_url}{path}?Expires={expires}&Signature={result_signature(secret, path, expires)}"
        for path in paths
    ]


def task_object(
    task: Task, seen: Observation, model: ModelProfile, base_url: str, secret: bytes
) -> dict[str, Any]:
    body: dict[str, Any] = {"created": task.created}
    if seen.status == "failed":
        error = {
            "code": task.plan.error_code or "unknown_error",
            "message": task.plan.error_message or facts.GENERIC_FAILURE_MESSAGE,
        }
        if error["code"] in ERROR_CODE_TYPES:
            error["type"] = ERROR_CODE_TYPES[error["code"]]
        body["error"] = error
    body.update(
        id=task.id, model=task.request.model, object="video.generation.task", progress=seen.progress
    )
    if seen.status == "completed":
        body["results"] = result_urls(task, base_url, secret)
    body.update(
        status=seen.status,
        task_info={
            "can_cancel": seen.status in ("pending", "processing"),
            "estimated_time": seen.remaining,
        },
        type="video",
        usage={
            "billing_rule": model.billing_rule,
            "credits_reserved": as_json_number(task.reserved),
            "user_group": task.user_group,
        },
    )
    return body
