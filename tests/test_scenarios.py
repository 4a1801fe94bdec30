"""Scenario rules and magic tokens, as pure functions."""

from __future__ import annotations

from typing import Any

import pytest

from mock_server.domain.errors import ApiError
from mock_server.domain.scenarios import Facts, Scenarios, add_fields, tokens

CREATE = Facts(
    "POST",
    "/v1/videos/generations",
    key="k",
    model="wan2.6-reference-video",
    prompt="a cat [wanmock:fail=content_policy]",
)


def book(*specs: dict[str, Any]) -> Scenarios:
    scenarios = Scenarios()
    for spec in specs:
        scenarios.add_spec(spec)
    return scenarios


def test_scenarios_rule_matches_by_prompt_substring() -> None:
    scenarios = book({"match": {"prompt__contains": "cat"}, "effect": {"http_status": 429}})
    rule = scenarios.http_effect(CREATE)
    assert rule is not None and rule.effect.http_status == 429


def test_scenarios_rule_does_not_match_other_requests() -> None:
    scenarios = book({"match": {"prompt__regex": "^dog"}, "effect": {"http_status": 429}})
    assert scenarios.http_effect(CREATE) is None


def test_scenarios_limited_rule_is_used_up_after_n_matches() -> None:
    scenarios = book(
        {"match": {"path": "/v1/videos/generations"}, "effect": {"http_status": 503}, "times": 2}
    )
    assert [scenarios.http_effect(CREATE) is not None for _ in range(3)] == [True, True, False]


def test_scenarios_unlimited_rule_keeps_matching() -> None:
    scenarios = book({"effect": {"http_status": 500}})
    assert all(scenarios.http_effect(CREATE) for _ in range(10))


def test_scenarios_method_matches_case_insensitively() -> None:
    scenarios = book({"match": {"method": "post"}, "effect": {"http_status": 502}})
    assert scenarios.http_effect(CREATE) is not None


def test_scenarios_error_code_implies_a_failed_outcome() -> None:
    scenarios = book({"effect": {"error_code": "timeout"}})
    effect = scenarios.task_effect(CREATE)
    assert effect is not None
    assert (effect.outcome, effect.error_code) == ("failed", "generation_timeout")


def test_scenarios_task_effects_of_several_rules_merge() -> None:
    scenarios = book(
        {"effect": {"queue_seconds": 0}},
        {"effect": {"processing_seconds": 9}},
        {"effect": {"queue_seconds": 50}},
    )
    effect = scenarios.task_effect(CREATE)
    assert effect is not None and (effect.queue_seconds, effect.processing_seconds) == (0, 9)


def test_scenarios_task_rules_do_not_answer_requests() -> None:
    scenarios = book({"effect": {"outcome": "failed"}})
    assert scenarios.http_effect(CREATE) is None


@pytest.mark.parametrize(
    ("spec", "param"),
    [
        ({"effect": {"http_status": 200}}, "effect.http_status"),
        ({"effect": {}}, "effect"),
        ({"effect": {"teleport": True}}, "effect.teleport"),
        ({"match": {"colour": "red"}, "effect": {"http_status": 500}}, "match.colour"),
        ({"match": {"prompt__regex": "("}, "effect": {"http_status": 500}}, "match.prompt__regex"),
        ({"effect": {"http_status": 500}, "times": 0}, "times"),
        ({"effect": {"delay_seconds": -1}}, "effect.delay_seconds"),
        ({"effect": {"outcome": "exploded"}}, "effect.outcome"),
        ({"effect": {"http_status": 500}, "when": "now"}, "when"),
        ({"effect": {"extra_fields": {}}}, "effect.extra_fields"),
        ({"effect": {"extra_fields": {"a.b.c": 1}}}, "effect.extra_fields"),
        ({"effect": {"results_count": 0}}, "effect.results_count"),
        ({"effect": {"results_count": True}}, "effect.results_count"),
    ],
)
def test_scenarios_bad_rule_is_a_400_naming_the_field(spec: dict[str, Any], param: str) -> None:
    with pytest.raises(ApiError) as caught:
        book(spec)
    assert (caught.value.status, caught.value.param) == (400, param)


def test_scenarios_remove_unknown_rule_is_404() -> None:
    with pytest.raises(ApiError) as caught:
        Scenarios().remove("rule-9")
    assert caught.value.status == 404


@pytest.mark.parametrize(
    ("prompt", "effect"),
    [
        (
            "[wanmock:fail=content_policy]",
            {"outcome": "failed", "error_code": "content_policy_violation"},
        ),
        ("[wanmock:delay=300]", {"processing_seconds": 300.0}),
        ("[wanmock:queue=5]", {"queue_seconds": 5.0}),
        ("[wanmock:http=429]", {"http_status": 429}),
        ("[wanmock:poll_http=503*2]", {"http_status": 503}),
        ("[wanmock:drop]", {"drop_connection": True}),
        ("[wanmock:slow=1.5]", {"delay_seconds": 1.5}),
        ("[wanmock:curve=linear]", {"progress_curve": 1.0}),
    ],
)
def test_scenarios_token_vocabulary(prompt: str, effect: dict[str, Any]) -> None:
    [(_, parsed, _, _)] = tokens(f"dance {prompt} please")
    assert parsed.to_json() == effect


def test_scenarios_token_counts_follow_a_star() -> None:
    [(_, _, times, scope)] = tokens("[wanmock:poll_http=503*2]")
    assert (times, scope) == (2, "poll")


def test_scenarios_bad_token_is_a_400_on_the_prompt() -> None:
    with pytest.raises(ApiError) as caught:
        tokens("[wanmock:delay=soon]")
    assert caught.value.param == "prompt"


def test_scenarios_token_becomes_one_rule_per_key_and_token() -> None:
    scenarios = Scenarios()
    facts = Facts("POST", "/v1/videos/generations", key="k", prompt="x [wanmock:http=429*2]")
    for _ in range(3):
        scenarios.token_rules(facts)
    assert len(scenarios.rules) == 1 and scenarios.rules[0].times == 2


def test_scenarios_extra_fields_of_several_rules_merge_first_wins() -> None:
    scenarios = book(
        {"effect": {"extra_fields": {"a": 1, "b": 1}}, "times": 1},
        {"effect": {"extra_fields": {"b": 2, "c": 2}}},
    )
    assert scenarios.decoration(CREATE) == {"a": 1, "b": 1, "c": 2}
    assert scenarios.decoration(CREATE) == {"b": 2, "c": 2}


def test_scenarios_add_fields_never_replaces_or_creates_objects() -> None:
    body = {"id": "t", "task_info": {"can_cancel": True}}
    extra = {"id": "x", "new": [1], "task_info.queue": 3, "error.hint": "h"}
    assert add_fields(body, extra) == {
        "id": "t",
        "new": [1],
        "task_info": {"can_cancel": True, "queue": 3},
    }
