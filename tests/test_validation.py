"""The create request's documented rules (SOURCES.md "Create request")."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given

from contracts.strategies import (
    RULE_BREAKERS,
    BrokenRequest,
    broken_create_requests,
    create_requests,
    unknown_field_requests,
)
from mock_server.domain.errors import ApiError
from mock_server.domain.validation import parse_create
from tests.conftest import BODY


def rejection(body: Any, **kwargs: Any) -> ApiError:
    with pytest.raises(ApiError) as caught:
        parse_create(body, **kwargs)
    return caught.value


@given(create_requests())
def test_validation_accepts_every_valid_request(body: dict[str, Any]) -> None:
    request = parse_create(body)
    assert request.model == body["model"]
    assert list(request.video_urls) == body["video_urls"]


@given(broken_create_requests())
def test_validation_names_the_one_broken_field(broken: BrokenRequest) -> None:
    error = rejection(broken.body)
    assert (error.status, error.param) == (broken.status, broken.param), broken.rule


@given(unknown_field_requests())
def test_validation_rejects_unknown_fields_by_name(broken: BrokenRequest) -> None:
    error = rejection(broken.body)
    assert (error.status, error.param) == (400, broken.param)


@pytest.mark.parametrize(
    ("field", "rule", "value", "status"),
    [(f, r, v, s) for f, rows in RULE_BREAKERS.items() for r, v, s in rows],
    ids=[f"{f}-{r}" for f, rows in RULE_BREAKERS.items() for r, _, _ in rows],
)
def test_validation_rule_table(field: str, rule: str, value: Any, status: int) -> None:
    body = {**BODY, "callback_url": "https://hooks.example.com/done"}
    if value is ...:
        body.pop(field)
    else:
        body[field] = value
    error = rejection(body)
    assert (error.status, error.param) == (status, field)
    assert (
        error.body()["error"]["type"]
        == {400: "invalid_request_error", 404: "not_found_error"}[status]
    )


def test_validation_defaults_follow_the_docs() -> None:
    request = parse_create(BODY)
    assert (request.aspect_ratio, request.quality, request.duration) == ("16:9", "720p", 5)
    assert request.generate_audio is True and request.callback_url is None


@pytest.mark.parametrize("duration", [2, 10])
def test_validation_duration_boundaries_are_inclusive(duration: int) -> None:
    assert parse_create({**BODY, "duration": duration}).duration == duration


def test_validation_prompt_of_exactly_1500_characters_is_accepted() -> None:
    assert len(parse_create({**BODY, "prompt": "é" * 1500}).prompt) == 1500


def test_validation_three_videos_are_accepted() -> None:
    assert len(parse_create({**BODY, "video_urls": ["https://a.com/1.mp4"] * 3}).video_urls) == 3


def test_validation_null_optional_fields_take_their_defaults() -> None:
    request = parse_create({**BODY, "quality": None, "duration": None, "callback_url": None})
    assert (request.quality, request.duration, request.callback_url) == ("720p", 5, None)


def test_validation_unknown_model_params_keys_are_kept() -> None:
    request = parse_create({**BODY, "model_params": {"callback_url": "x", "seed": 3}})
    assert request.model_params == {"callback_url": "x", "seed": 3}


def test_validation_generate_audio_top_level_wins_over_model_params() -> None:
    body = {**BODY, "generate_audio": False, "model_params": {"generate_audio": True}}
    assert parse_create(body).generate_audio is False


def test_validation_body_must_be_an_object() -> None:
    assert rejection([BODY]).status == 400


def test_validation_forbidden_model_is_403() -> None:
    error = rejection(BODY, forbidden_models=frozenset({"wan2.6-reference-video"}))
    assert (error.status, error.param, error.error_type) == (403, "model", "permission_error")


def test_validation_unknown_model_suggests_a_valid_one() -> None:
    error = rejection({**BODY, "model": "sora-2"})
    assert error.body()["error"]["fallback_suggestion"] == "wan2.6-reference-video"


def test_validation_allowed_callback_host_passes_the_guard() -> None:
    body = {**BODY, "callback_url": "https://127.0.0.1:8443/hook"}
    assert parse_create(body, allowed_callback_hosts=frozenset({"127.0.0.1"})).callback_url
