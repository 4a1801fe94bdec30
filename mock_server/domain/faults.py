"""Injected failures that look exactly like the real service's: failed tasks and HTTP errors.

Scenarios, magic tokens and the control API draw from the contract's tables
(``contracts/facts.py``; SOURCES.md "Failed tasks", "HTTP errors"), so an injected
failure carries a real code, message, type and suggestion. The aliases a person may type
in a magic token are the fake's own.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Final

from contracts import facts
from mock_server.domain.errors import ApiError

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


def task_error_code(name: str) -> str:
    """The failed-task code a magic token's name stands for (an alias or the code itself)."""
    return TASK_ERROR_ALIASES.get(name, name)


def is_known_task_error(code: str) -> bool:
    """Whether ``code`` is one the real service documents."""
    return code in facts.TASK_ERROR_CODES


def _retry_after(headers: Mapping[str, str]) -> str | None:
    value = next((v for k, v in headers.items() if k.lower() == "retry-after"), None)
    return value.strip() if value is not None and value.strip().isdigit() else None


def http_error(
    status: int, message: str | None = None, headers: dict[str, str] | None = None
) -> ApiError:
    """An injected HTTP error with the real envelope and the documented suggestion.

    A 429 or 503 sends the documented ``Retry-After`` unless the rule sets its own
    headers; whenever a ``Retry-After`` in seconds goes out, the suggestion names the
    same wait, so the body never contradicts the header.
    """
    default_message, suggestion = facts.HTTP_ERRORS.get(status, (f"HTTP {status}", None))
    if headers is None and status in facts.RETRY_AFTER_SECONDS:
        headers = {"Retry-After": str(facts.RETRY_AFTER_SECONDS[status])}
    wait = _retry_after(headers or {})
    if wait is not None:
        suggestion = facts.retry_suggestion(wait)
    return ApiError(
        status, message or default_message, fallback_suggestion=suggestion, headers=headers
    )
