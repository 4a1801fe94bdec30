"""contracts.checks: each invariant passes what the contract allows and names what it does not."""

from __future__ import annotations

import copy
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from contracts import checks, facts
from contracts.checks import (
    ContractViolation,
    ErrorAnswer,
    FileAnswer,
    SettledTask,
    Settlement,
    TaskHistory,
)
from contracts.pricing import PRICES, expected_charge
from contracts.strategies import task_histories
from mock_server.domain import billing, catalog
from tests.conftest import Api

REQUEST: dict[str, Any] = {
    "model": "wan2.6-reference-video",
    "prompt": "A person dancing",
    "video_urls": ["https://cdn.example.com/ref.mp4"],
}


def task(status: str = "pending", progress: int = 0, **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "created": 1757169743,
        "id": "task-unified-1757169743-7cvnl5zw",
        "model": "wan2.6-reference-video",
        "object": "video.generation.task",
        "progress": progress,
        "status": status,
        "task_info": {"can_cancel": status in ("pending", "processing"), "estimated_time": 0},
        "type": "video",
        "usage": {"billing_rule": "per_second", "credits_reserved": 9, "user_group": "default"},
    }
    if status == "completed":
        body["results"] = ["https://cdn.example.com/out.mp4"]
    if status == "failed":
        body["error"] = {"code": "service_error", "message": "Video generation failed"}
    return {**body, **extra}


def names(subject: object) -> list[str]:
    return [v.check for v in checks.violations(subject)]


GOOD = TaskHistory(
    [task(), task("processing", 10), task("processing", 60), task("completed", 100)], REQUEST
)


def test_checks_registry_names_every_check_once_with_a_source() -> None:
    registered = [c.name for c in checks.REGISTRY]
    assert len(registered) == len(set(registered)) >= 19
    assert all(c.source and c.doc for c in checks.REGISTRY)


def test_checks_a_documented_lifecycle_keeps_the_contract() -> None:
    assert names(GOOD) == []


def test_checks_status_going_backwards_is_a_violation() -> None:
    history = TaskHistory([task("processing", 40), task("pending")])
    assert "status_monotone" in names(history)


def test_checks_an_ended_task_that_changes_is_a_violation() -> None:
    history = TaskHistory([task("completed", 100), task("failed", 100)])
    assert "status_monotone" in names(history)


def test_checks_progress_falling_is_a_violation() -> None:
    history = TaskHistory([task("processing", 50), task("processing", 30)])
    assert names(history) == ["progress_monotone"]


def test_checks_failed_task_progress_is_not_judged() -> None:
    assert names(TaskHistory([task("processing", 50), task("failed", 0)])) == []


def test_checks_results_before_completion_is_a_violation() -> None:
    history = TaskHistory([task("processing", 50, results=["https://x.example/a.mp4"])])
    assert names(history) == ["results_only_when_completed"]


def test_checks_completed_without_results_is_a_violation() -> None:
    done = task("completed", 100)
    del done["results"]
    assert "results_only_when_completed" in names(TaskHistory([done]))


def test_checks_error_on_a_live_task_is_a_violation() -> None:
    history = TaskHistory([task("processing", 5, error={"code": "x", "message": "y"})])
    assert names(history) == ["error_only_when_failed"]


def test_checks_failed_without_error_is_a_violation() -> None:
    failed = task("failed", 0)
    del failed["error"]
    assert "error_only_when_failed" in names(TaskHistory([failed]))


def test_checks_can_cancel_after_the_end_is_a_violation() -> None:
    done = task("completed", 100)
    done["task_info"]["can_cancel"] = True
    assert names(TaskHistory([done])) == ["can_cancel_consistent"]


def test_checks_shape_violation_names_the_field_path() -> None:
    bad = task(progress=101)
    [violation] = checks.violations(TaskHistory([bad]))
    assert violation.check == "task_shape"
    assert any("$.progress" in p for p in violation.evidence["problems"])


def test_checks_changed_model_is_a_violation() -> None:
    history = TaskHistory([task(), task("processing", 5, model="other")], REQUEST)
    assert "task_identity_stable" in names(history)


def error(status: int, type_: str, param: str | None = None, code: int | None = None) -> Any:
    body: dict[str, Any] = {"code": status if code is None else code, "message": "m", "type": type_}
    if param:
        body["param"] = param
    return {"error": body}


def test_checks_documented_error_keeps_the_contract() -> None:
    answer = ErrorAnswer(
        400, error(400, "invalid_request_error", "duration"), "application/json", 400, "duration"
    )
    assert names(answer) == []


@pytest.mark.parametrize(
    ("answer", "check"),
    [
        (ErrorAnswer(404, None, "text/plain"), "error_is_json"),
        (ErrorAnswer(402, error(402, "payment_required")), "error_type_matches_status"),
        (ErrorAnswer(401, error(401, "authentication_error", code=1)), "error_code_is_status"),
        (
            ErrorAnswer(400, error(400, "invalid_request_error"), expect_param="x"),
            "param_names_field",
        ),
        (ErrorAnswer(200, {}, expect_status=400), "status_as_documented"),
        (ErrorAnswer(400, {"error": "bad"}), "error_envelope_shape"),
    ],
)
def test_checks_error_answers_name_the_broken_rule(answer: ErrorAnswer, check: str) -> None:
    assert check in names(answer)


def test_checks_error_types_agree_with_the_fake() -> None:
    from mock_server.domain.errors import ERROR_TYPES

    for status, kind in facts.ERROR_TYPES.items():
        assert ERROR_TYPES[status] == kind


def test_checks_violation_reads_with_its_evidence_and_source() -> None:
    [violation] = checks.violations(ErrorAnswer(402, error(402, "payment_required")))
    text = str(violation)
    assert text.startswith("[error_type_matches_status]")
    assert "insufficient_quota_error" in text and "SOURCES.md" in text


def upload(hours: int = 72) -> dict[str, Any]:
    data = {
        "file_id": "file_1",
        "file_name": "a.mp4",
        "original_name": "a.mp4",
        "file_size": 1,
        "mime_type": "video/mp4",
        "upload_path": "videos",
        "file_url": "https://files.example.com/a.mp4",
        "download_url": "https://files.example.com/api/v1/files/download/file_1",
        "upload_time": "2025-10-09T00:00:00+08:00",
        "expires_at": f"2025-10-{9 + hours // 24:02d}T00:00:00+08:00",
    }
    return {"success": True, "code": 200, "msg": "File uploaded successfully", "data": data}


def test_checks_file_answers() -> None:
    assert names(FileAnswer(200, upload(), expect_success=True, expect_status=200)) == []
    assert names(FileAnswer(200, upload(24))) == ["upload_expires_after_72h"]
    failure = {"success": False, "code": 40002, "msg": "no"}
    assert names(FileAnswer(400, failure, expect_success=False, expect_code=40002)) == []
    assert names(FileAnswer(400, failure, expect_success=False, expect_code=40001)) == [
        "file_outcome_as_expected"
    ]
    assert names(FileAnswer(200, {"success": True})) == ["file_envelope_shape"]


SIX = [Decimal(6)]


def test_checks_settlement_charges_by_the_rules() -> None:
    good = SettledTask(
        REQUEST, "completed", SIX, Decimal("47.60"), Decimal("47.60"), "t1"
    )  # (5 + 5) s x 4.76
    assert names(Settlement([good])) == []
    failed = SettledTask(REQUEST, "failed", SIX, Decimal("47.60"), Decimal("0"), "t2")
    assert names(Settlement([failed], balance_delta=Decimal(0))) == []


def test_checks_charging_a_failure_is_a_violation() -> None:
    failed = SettledTask(REQUEST, "failed", None, Decimal(9), Decimal(9), "t")
    assert names(Settlement([failed])) == ["charge_only_on_success"]
    unseen = SettledTask(REQUEST, "failed", None, Decimal(9), None, "t")
    assert names(Settlement([unseen], balance_delta=Decimal(9))) == ["charge_only_on_success"]


def test_checks_wrong_caps_are_a_violation() -> None:
    three = {**REQUEST, "video_urls": ["https://a.com/1.mp4"] * 3}
    # three 6 s references bill 1.65 s each: 4.95 + 5 = 9.95 s x 4.76 = 47.36
    wrong = SettledTask(three, "completed", SIX * 3, Decimal("100"), Decimal("47.60"), "t")
    assert names(Settlement([wrong])) == ["billing_matches_rules"]
    right = SettledTask(three, "completed", SIX * 3, Decimal("100"), Decimal("47.36"), "t")
    assert names(Settlement([right], balance_delta=Decimal("47.36"))) == []


def test_checks_unobservable_billing_is_skipped_not_passed() -> None:
    outcomes = checks.run(Settlement([SettledTask(REQUEST, "completed")]))
    assert {o.status for o in outcomes} == {"skipped"}


@settings(max_examples=60, deadline=None)
@given(
    request=st.fixed_dictionaries(
        {
            "model": st.sampled_from(sorted(catalog.MODELS)),
            "quality": st.sampled_from(facts.QUALITIES),
            "duration": st.integers(*facts.DURATION_RANGE),
            "generate_audio": st.booleans(),
        }
    ),
    seconds=st.lists(st.decimals("2", "30", places=3), min_size=1, max_size=3),
)
def test_checks_pricing_oracle_agrees_with_the_fakes_default_prices(
    request: dict[str, Any], seconds: list[Decimal]
) -> None:
    model = catalog.MODELS[request["model"]]
    price = billing.price_per_second(model, request["quality"], request["generate_audio"])
    fake = billing.cost(model, price, billing.input_seconds(seconds), request["duration"])
    assert expected_charge(request, seconds) == fake
    assert set(PRICES) == set(catalog.MODELS)


def test_checks_judge_the_fakes_own_lifecycle(api: Api) -> None:
    created = api.created()
    seen = [created]
    for _ in range(40):
        api.advance(5)
        seen.append(api.status(created["id"]))
    assert seen[-1]["status"] == "completed"
    checks.assert_keeps_contract(TaskHistory(seen, REQUEST))


def test_checks_assert_keeps_contract_raises_the_first_violation() -> None:
    history = copy.deepcopy(GOOD.observations)
    history[1]["status"] = "bogus"
    with pytest.raises(ContractViolation, match="task_shape"):
        checks.assert_keeps_contract(TaskHistory(history))


@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow])
@given(task_histories())
def test_checks_accept_every_history_the_contract_allows(history: TaskHistory) -> None:
    assert checks.violations(history) == []


@settings(max_examples=50, suppress_health_check=[HealthCheck.too_slow])
@given(task_histories())
def test_checks_catch_any_history_played_backwards(history: TaskHistory) -> None:
    statuses = [o["status"] for o in history.observations]
    progress = [o["progress"] for o in history.observations]
    backwards = TaskHistory(list(reversed(history.observations)), history.request)
    moved = len(set(statuses)) > 1 or len(set(progress)) > 1
    assert bool(checks.violations(backwards)) == moved


def test_strategies_task_histories_draw_every_ending() -> None:
    endings: set[str] = set()

    @settings(
        max_examples=100,
        phases=[Phase.generate],
        database=None,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        derandomize=True,  # the same 100 draws every run: a rare ending is no flake
    )
    @given(task_histories())
    def collect(history: TaskHistory) -> None:
        endings.add(history.observations[-1]["status"])

    collect()
    assert endings == set(facts.TASK_STATUSES)
