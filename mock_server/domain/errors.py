"""The real API's HTTP errors as data.

EvoLink's error body is always ``{"error": {"code": <status>, "message", "type",
"param"?, "fallback_suggestion"?}}`` and the type follows from the status
(SOURCES.md "HTTP errors"). Raising ``ApiError`` anywhere below the HTTP layer yields
exactly that body, so no handler builds error JSON by hand.
"""

from __future__ import annotations

from types import MappingProxyType
from typing import Any, Final

from contracts import facts

# The documented nine (contracts/facts.py), plus the fake's choices for statuses the docs
# do not show (SOURCES.md "HTTP errors": 405, 413 and the rest are undocumented).
ERROR_TYPES: Final = MappingProxyType(
    {
        **facts.ERROR_TYPES,
        405: "invalid_request_error",
        409: "invalid_request_error",
        413: "request_too_large_error",
        415: "invalid_request_error",
        422: "invalid_request_error",
    }
)


class ApiError(Exception):
    """An error answer of the real API: status plus the fields of its JSON body."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        param: str | None = None,
        fallback_suggestion: str | None = None,
        error_type: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.param = param
        self.fallback_suggestion = fallback_suggestion
        self.error_type = error_type or ERROR_TYPES.get(status, "invalid_request_error")
        self.headers = headers or {}

    def body(self) -> dict[str, Any]:
        error: dict[str, Any] = {
            "code": self.status,
            "message": self.message,
            "type": self.error_type,
        }
        if self.param is not None:
            error["param"] = self.param
        if self.fallback_suggestion is not None:
            error["fallback_suggestion"] = self.fallback_suggestion
        return {"error": error}


def invalid(param: str, message: str) -> ApiError:
    """A 400 that names the offending field, as the real API does for request rules."""
    return ApiError(400, message, param=param)


def task_not_found() -> ApiError:
    return ApiError(404, facts.TASK_NOT_FOUND_MESSAGE, param="task_id")


def invalid_task_id() -> ApiError:
    return ApiError(400, facts.INVALID_TASK_ID_MESSAGE, param="task_id")
