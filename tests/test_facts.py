"""The API's facts live once, in contracts/facts.py: the fake and the contract both read them."""

from __future__ import annotations

import pytest

from contracts import facts, schemas
from mock_server.domain import catalog
from mock_server.domain.errors import ApiError
from mock_server.domain.validation import parse_create

BODY = {"model": facts.DEFAULT_MODEL, "prompt": "p", "video_urls": ["https://a.com/1.mp4"]}


def test_facts_prices_are_the_fakes_default_model_profiles() -> None:
    assert set(catalog.MODELS) == set(facts.MODELS) == set(facts.PRICES)
    for name, price in facts.PRICES.items():
        profile = catalog.MODELS[name]
        assert profile.rate == price.rate
        assert profile.minimum_charge == facts.MINIMUM_CHARGE
        assert profile.audio_optional == (price.silent_factor is not None)


def test_facts_limits_are_the_fakes_validation_limits() -> None:
    parse_create({**BODY, "prompt": "x" * facts.PROMPT_MAX_CHARS})
    with pytest.raises(ApiError) as raised:
        parse_create({**BODY, "prompt": "x" * (facts.PROMPT_MAX_CHARS + 1)})
    assert raised.value.param == "prompt"
    low, high = facts.DURATION_RANGE
    assert parse_create({**BODY, "duration": low}).duration == low
    assert parse_create({**BODY, "duration": high}).duration == high
    assert parse_create(BODY).duration == facts.DEFAULT_DURATION


def test_facts_enums_are_the_schemas_enums() -> None:
    task = schemas.TASK["properties"]
    assert task["status"]["enum"] == list(facts.TASK_STATUSES)
    assert task["usage"]["properties"]["user_group"]["enum"] == list(facts.USER_GROUPS)
    create = schemas.CREATE_REQUEST["properties"]
    assert create["model"]["enum"] == list(facts.MODELS)
    assert create["quality"]["enum"] == [*facts.QUALITIES, None]


def test_facts_every_task_error_has_a_message() -> None:
    assert all(facts.task_error_message(code) for code in facts.TASK_ERROR_CODES)
    assert facts.task_error_message("not-a-code") == facts.GENERIC_FAILURE_MESSAGE
