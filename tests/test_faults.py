"""Injected HTTP errors: the real envelope, and a suggestion that agrees with Retry-After."""

from __future__ import annotations

import pytest

from contracts import facts
from mock_server.domain.faults import http_error


@pytest.mark.parametrize("status", [429, 503])
def test_http_error_default_retry_after_matches_the_documented_suggestion(status: int) -> None:
    error = http_error(status)
    wait = facts.RETRY_AFTER_SECONDS[status]
    assert error.headers == {"Retry-After": str(wait)}
    assert error.fallback_suggestion == f"retry after {wait} seconds"


@pytest.mark.parametrize("header", ["Retry-After", "retry-after"])
def test_http_error_suggestion_names_the_rules_own_retry_after(header: str) -> None:
    error = http_error(429, headers={header: "5"})
    assert error.fallback_suggestion == "retry after 5 seconds"
    assert error.body()["error"]["fallback_suggestion"] == "retry after 5 seconds"


def test_http_error_without_retry_after_keeps_the_documented_suggestion() -> None:
    assert http_error(502).fallback_suggestion == "try again later"
    assert http_error(502).headers == {}


def test_http_error_type_follows_the_contracts_table() -> None:
    for status, kind in facts.ERROR_TYPES.items():
        assert http_error(status).body()["error"]["type"] == kind
