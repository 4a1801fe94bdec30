"""The real service's error vocabulary, as tables: failed-task codes and HTTP errors.

Scenarios, magic tokens and the control API draw from these tables, so an injected
failure looks exactly like one the real service produces (SOURCES.md "Failed tasks",
"HTTP errors").
"""

from __future__ import annotations

from types import MappingProxyType
from typing import Final

from mock_server.domain.errors import ApiError

# code -> default message. Codes from EvoLink's client (TaskErrorCode) and docs.
TASK_ERRORS: Final = MappingProxyType(
    {
        "content_policy_violation": "The content may violate the content policy",
        "invalid_parameters": "Invalid parameters for this model",
        "image_dimension_mismatch": "Image dimensions do not match the requirements",
        "image_processing_error": "The input media could not be processed",
        "request_cancelled": "Task was cancelled",
        "resource_not_found": "A reference video could not be downloaded",
        "generation_timeout": "Video generation timed out",
        "quota_exceeded": "Quota exceeded",
        "resource_exhausted": "Resources are exhausted, try again later",
        "generation_failed_no_content": "The model generated no content",
        "service_error": "Video generation failed",
        "service_unavailable": "The service is temporarily unavailable",
        "unknown_error": "An unknown error occurred",
        "model_unavailable": "The model is temporarily unavailable",
        "upstream_error": "The upstream service returned an error",
        "rate_limited": "Too many requests to the upstream service",
    }
)

# Short names a person may type in a magic token.
TASK_ERROR_ALIASES: Final = MappingProxyType(
    {
        "content_policy": "content_policy_violation",
        "policy": "content_policy_violation",
        "timeout": "generation_timeout",
        "cancelled": "request_cancelled",
        "no_content": "generation_failed_no_content",
        "invalid": "invalid_parameters",
        "not_found": "resource_not_found",
        "unavailable": "service_unavailable",
        "error": "service_error",
    }
)

# status -> (message, fallback_suggestion): the docs' example bodies ([Q], [I2V]).
HTTP_ERRORS: Final = MappingProxyType(
    {
        400: ("Invalid request format", None),
        401: ("Invalid or expired token", None),
        402: ("Insufficient quota", "https://evolink.ai/dashboard/billing"),
        403: ("Access denied", None),
        404: ("Task not found or expired", None),
        429: ("Rate limit exceeded", "retry after 60 seconds"),
        500: ("Internal server error", "try again later"),
        502: ("Upstream service error", "try again later"),
        503: ("Service temporarily unavailable", "retry after 30 seconds"),
    }
)
# Retry-After sent with an injected 429 or 503 unless a rule sets its own headers.
DEFAULT_RETRY_AFTER: Final = MappingProxyType({429: "60", 503: "30"})


def task_error_code(name: str) -> str:
    return TASK_ERROR_ALIASES.get(name, name)


def is_known_task_error(code: str) -> bool:
    return code in TASK_ERRORS


def task_error_message(code: str) -> str:
    return TASK_ERRORS.get(code, "Video generation failed")


def http_error(
    status: int, message: str | None = None, headers: dict[str, str] | None = None
) -> ApiError:
    """An injected HTTP error with the real envelope and the documented suggestion."""
    default_message, suggestion = HTTP_ERRORS.get(status, (f"HTTP {status}", None))
    if headers is None and status in DEFAULT_RETRY_AFTER:
        headers = {"Retry-After": DEFAULT_RETRY_AFTER[status]}
    return ApiError(
        status, message or default_message, fallback_suggestion=suggestion, headers=headers
    )
