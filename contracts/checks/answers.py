"""Invariants of single answers: the generation API's errors and the file service."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any, Final

from contracts import facts, schemas
from contracts.checks.core import ErrorAnswer, FileAnswer, NotApplicable, check, fail

UPLOAD_LIFETIME: Final = timedelta(hours=72)


@check(ErrorAnswer, source="[CLIENT] api-client.ts parses every error body as JSON")
def error_is_json(answer: ErrorAnswer) -> None:
    """Every error body is JSON, so clients can read it before they look at the status."""
    if answer.body is None or "json" not in answer.content_type.lower():
        raise fail(
            "the error body is not JSON",
            status=answer.status,
            content_type=answer.content_type,
            body=answer.body if answer.body is not None else answer.text[:200],
        )


@check(ErrorAnswer, source="[I2V] ErrorResponse, [Q]")
def error_envelope_shape(answer: ErrorAnswer) -> None:
    """``{"error": {"code": int, "message": str, "type": str, "param"?, ...}}``."""
    if answer.body is None:
        raise NotApplicable("no JSON body")
    found = schemas.problems(answer.body, schemas.API_ERROR)
    if found:
        raise fail(
            "the error body is not the documented envelope",
            status=answer.status,
            problems=found,
            body=answer.body,
        )


def _error(answer: ErrorAnswer) -> Mapping[str, Any]:
    body = answer.body
    if not isinstance(body, Mapping) or not isinstance(body.get("error"), Mapping):
        raise NotApplicable("no error object")
    error: Mapping[str, Any] = body["error"]
    return error


@check(ErrorAnswer, source="[Q] code: HTTP status error code")
def error_code_is_status(answer: ErrorAnswer) -> None:
    """``error.code`` is the HTTP status."""
    code = _error(answer).get("code")
    if code != answer.status:
        raise fail(f"error.code is {code!r} on an HTTP {answer.status}", body=answer.body)


@check(ErrorAnswer, source="[Q], [I2V] (SOURCES.md 'HTTP errors')")
def error_type_matches_status(answer: ErrorAnswer) -> None:
    """``error.type`` is the documented type for the status (402: insufficient_quota_error)."""
    wanted = facts.ERROR_TYPES.get(answer.status)
    if wanted is None:
        raise NotApplicable(f"no documented type for HTTP {answer.status}")
    got = _error(answer).get("type")
    if got != wanted:
        raise fail(f"error.type is {got!r}; HTTP {answer.status} is {wanted!r}", body=answer.body)


@check(ErrorAnswer, source="[REF], [I2V], [Q]")
def status_as_documented(answer: ErrorAnswer) -> None:
    """The request gets the status the docs give it (400 for a broken rule, 401, 404...)."""
    if answer.expect_status is None:
        raise NotApplicable("no expected status")
    if answer.status != answer.expect_status:
        raise fail(
            f"HTTP {answer.status}, expected {answer.expect_status}",
            request=answer.label,
            body=answer.body,
        )


@check(ErrorAnswer, source="[I2V] param: Parameter that caused the error")
def param_names_field(answer: ErrorAnswer) -> None:
    """``error.param`` names the field at fault."""
    if answer.expect_param is None:
        raise NotApplicable("no expected param")
    got = _error(answer).get("param")
    if got != answer.expect_param:
        raise fail(
            f"error.param is {got!r}, expected {answer.expect_param!r}",
            request=answer.label,
            body=answer.body,
        )


# -- file service --------------------------------------------------------------------


@check(FileAnswer, source="[F-STREAM], [SKILL], [CLIENT]")
def file_envelope_shape(answer: FileAnswer) -> None:
    """Success answers have their documented shape; failures are ``{success: false, code, msg}``."""
    if answer.body is None or "json" not in answer.content_type.lower():
        raise fail(
            "the file service answered without JSON",
            status=answer.status,
            content_type=answer.content_type,
        )
    ok = 200 <= answer.status < 300
    schema = schemas.SCHEMAS[answer.schema] if ok else schemas.FILE_ERROR
    found = schemas.problems(answer.body, schema)
    if found:
        raise fail(
            f"not the documented {answer.schema if ok else 'FileError'} shape",
            status=answer.status,
            problems=found,
            body=answer.body,
        )


@check(FileAnswer, source="[CLIENT] file-client.ts checks success and the status")
def file_outcome_as_expected(answer: FileAnswer) -> None:
    """The call succeeds or fails as the docs say, with the documented business code."""
    if answer.expect_success is None:
        raise NotApplicable("no expectation")
    body = answer.body if isinstance(answer.body, Mapping) else {}
    if body.get("success") is not answer.expect_success:
        raise fail(
            f"success is {body.get('success')!r}, expected {answer.expect_success}",
            status=answer.status,
            body=answer.body,
        )
    if answer.expect_status is not None and answer.status != answer.expect_status:
        raise fail(
            f"HTTP {answer.status}, expected {answer.expect_status}",
            status=answer.status,
            body=answer.body,
        )
    if answer.expect_code is not None and body.get("code") != answer.expect_code:
        raise fail(
            f"code is {body.get('code')!r}, expected {answer.expect_code}",
            status=answer.status,
            body=answer.body,
        )


@check(FileAnswer, source="[F-STREAM] Files will expire after 72 hours")
def upload_expires_after_72h(answer: FileAnswer) -> None:
    """An uploaded file's ``expires_at`` is 72 hours after its ``upload_time``."""
    data = answer.body.get("data") if isinstance(answer.body, Mapping) else None
    if answer.schema != "FileUploaded" or not isinstance(data, Mapping):
        raise NotApplicable("not an upload answer")
    try:
        life = datetime.fromisoformat(data["expires_at"]) - datetime.fromisoformat(
            data["upload_time"]
        )
    except (KeyError, TypeError, ValueError):
        raise NotApplicable("times unreadable (see file_envelope_shape)") from None
    if life != UPLOAD_LIFETIME:
        raise fail(
            f"the file lives {life}, not 72 hours",
            upload_time=data.get("upload_time"),
            expires_at=data.get("expires_at"),
        )
