"""Checks that cost nothing: auth errors, every validation rule, task ids, error shapes.

Every request here must be refused, so no credit moves. Should a provider accept one by
mistake, the body still names an unreachable reference (``example.com``), so a real
service would fail the task at download, and failures are not charged ([REF]).
"""

from __future__ import annotations

import copy
from typing import Any, Final

from contracts import checks
from contracts.checks import ErrorAnswer
from contracts.provider.http import Exchange, Provider
from contracts.provider.report import Report
from contracts.strategies import RULE_BREAKERS

#: A valid create body whose reference cannot be downloaded (see the module docstring).
REFUSED_BASE: Final[dict[str, Any]] = {
    "model": "wan2.6-reference-video",
    "prompt": "wanmock verify-provider: this request must be refused",
    "video_urls": ["https://example.com/wanmock-verify/unreachable.mp4"],
    "duration": 2,
}
#: Well formed ([Q] example's pattern) yet unknown to any provider.
UNKNOWN_TASK_ID: Final = "task-unified-1757169743-zzzzzzzz"
MALFORMED_TASK_ID: Final = "not-a-task-id"
BROKE_KEY: Final = "sk-wanmock-verify-broke"
LIMITED_KEY: Final = "sk-wanmock-verify-limited"


def as_error(answer: Exchange, status: int | None, param: str | None, label: str) -> ErrorAnswer:
    """The contract's view of an answer that should be an error."""
    return ErrorAnswer(
        answer.status, answer.body, answer.content_type, status, param, label, answer.text
    )


def judge(report: Report, name: str, answer: Exchange, status: int, param: str | None) -> None:
    """Run every error check on ``answer`` and print one line for it."""
    label = f"{answer.method} {answer.url.split('//', 1)[-1]}"
    outcomes = checks.run(as_error(answer, status, param, label))
    error = answer.body.get("error") if isinstance(answer.body, dict) else None
    actual = error.get("param") if isinstance(error, dict) else None
    detail = f"HTTP {answer.status}" + (f", param {actual}" if actual else "")
    report.add(name, outcomes, detail=detail)


async def auth_checks(provider: Provider, report: Report) -> None:
    """401 ``authentication_error`` without a key and with an unknown one ([Q], [I2V])."""
    for auth, how in (("none", "no key"), ("bad", "an unknown key")):
        answer = await provider.create(REFUSED_BASE, auth=auth, operation="create-unauthorized")
        judge(report, f"auth: create with {how} -> 401", answer, 401, None)
        answer = await provider.query(UNKNOWN_TASK_ID, auth=auth, operation="query-unauthorized")
        judge(report, f"auth: query with {how} -> 401", answer, 401, None)


def broken_bodies() -> list[tuple[str, dict[str, Any], int, str]]:
    """``(label, body, expected status, field)`` for every rule of ``RULE_BREAKERS``."""
    bodies = []
    for field, breakers in RULE_BREAKERS.items():
        for rule, value, status in breakers:
            body = copy.deepcopy(REFUSED_BASE)
            if value is ...:
                body.pop(field, None)
            else:
                body[field] = value
            bodies.append((f"{field}: {rule}", body, status, field))
    return bodies


async def validation_checks(provider: Provider, report: Report) -> None:
    """Each documented rule broken alone gets its status and names its field ([REF], [I2V])."""
    for label, body, status, field in broken_bodies():
        answer = await provider.create(body, operation="create-invalid")
        judge(report, f"validation {label} -> {status}", answer, status, field)


async def task_id_checks(provider: Provider, report: Report) -> None:
    """Unknown ids are 404 ``not_found_error``, malformed ones 400, both naming task_id ([Q])."""
    answer = await provider.query(UNKNOWN_TASK_ID, operation="query-unknown")
    judge(report, "query an unknown task -> 404", answer, 404, "task_id")
    answer = await provider.query(MALFORMED_TASK_ID, operation="query-malformed")
    judge(report, "query a malformed task id -> 400", answer, 400, "task_id")


async def credits_checks(provider: Provider, report: Report) -> None:
    """``GET /v1/credits`` keeps its documented shape, and refuses a missing key ([CREDITS])."""
    from contracts import schemas

    answer = await provider.call("credits", "GET", f"{provider.base}/v1/credits")
    if answer.status == 404:
        report.skip("credits: GET /v1/credits", "the provider does not serve it")
        return
    found = schemas.problems(answer.body, schemas.CREDITS) if answer.status == 200 else []
    extra = [
        checks.ContractViolation("credits_shape", f"HTTP {answer.status}: {p}", {}, "[CREDITS]")
        for p in found
    ]
    if answer.status != 200:
        extra.append(
            checks.ContractViolation(
                "credits_shape",
                f"HTTP {answer.status} for a valid key",
                {"body": answer.body},
                "[CREDITS]",
            )
        )
    report.add("credits: GET /v1/credits has the documented shape", extra=extra)
    answer = await provider.call("credits", "GET", f"{provider.base}/v1/credits", auth="none")
    judge(report, "auth: credits with no key -> 401", answer, 401, None)


async def control_checks(provider: Provider, report: Report) -> None:
    """402 and 403, which need a key in a given state: only where wanmock's control API is."""
    names = (
        "quota: a key without credits -> 402",
        "permission: a model the key may not use -> 403",
    )
    if not await provider.has_control():
        for name in names:
            report.skip(name, "needs a key in a chosen state (wanmock's /_mock control API)")
        return
    keys = {
        BROKE_KEY: {"credits": "0"},
        LIMITED_KEY: {"credits": "0", "models": ["wan2.6-reference-video"]},
    }
    await provider.control("PUT", "/keys", {"keys": keys})
    answer = await provider.create(REFUSED_BASE, auth=f"Bearer {BROKE_KEY}", operation="create-402")
    judge(report, names[0], answer, 402, None)
    flash = {**REFUSED_BASE, "model": "wan2.6-reference-video-flash"}
    answer = await provider.create(flash, auth=f"Bearer {LIMITED_KEY}", operation="create-403")
    judge(report, names[1], answer, 403, "model")


async def run(provider: Provider, report: Report) -> None:
    """Every free check, in the order a reader expects them."""
    report.section("Authentication")
    await auth_checks(provider, report)
    report.section("Validation rules (each broken alone)")
    await validation_checks(provider, report)
    report.section("Tasks, credits and account states")
    await task_id_checks(provider, report)
    await credits_checks(provider, report)
    await control_checks(provider, report)
