"""The rule book (service/rulebook.py): ``fake.rules``, matched against requests and
shared through the store."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from mock_server.domain.errors import ApiError
from mock_server.domain.scenarios import CREATE_PATH, Facts
from mock_server.service.fake import Fake
from tests.conftest import KEY

POLL = Facts("GET", "/v1/tasks/task-unified-1-abcdefgh", KEY, task_id="task-unified-1-abcdefgh")


def test_rulebook_is_inactive_until_a_rule_is_kept(fake: Fake) -> None:
    assert not fake.rules.active
    fake.rules.add({"match": {"method": "GET"}, "effect": {"http_status": 503}})
    assert fake.rules.active


def test_rulebook_answer_effects_finds_the_rule_that_answers(fake: Fake) -> None:
    fake.rules.add({"match": {"method": "GET"}, "effect": {"http_status": 503}, "times": 1})
    rule, extra = fake.rules.answer_effects(POLL)
    assert rule is not None and rule.effect.http_status == 503 and extra is None
    assert fake.rules.answer_effects(POLL) == (None, None)  # used up


def test_rulebook_answer_effects_adds_fields_to_an_answer_it_lets_through(fake: Fake) -> None:
    fake.rules.add({"match": {"method": "GET"}, "effect": {"extra_fields": {"beta": 1}}})
    rule, extra = fake.rules.answer_effects(POLL)
    assert rule is None and extra == {"beta": 1}


def test_rulebook_answer_effects_turns_a_prompt_token_into_a_rule(fake: Fake) -> None:
    prompt = "a cat [wanmock:http=429]"
    asked = Facts("POST", CREATE_PATH, KEY, "wan2.6-reference-video", prompt)
    rule, _ = fake.rules.answer_effects(asked)
    assert rule is not None and rule.effect.http_status == 429
    assert [r["source"] for r in fake.rules.to_json()] == ["token"]


def test_rulebook_uses_are_counted_where_every_process_sees_them(
    make_fake: Callable[..., Fake], tmp_path: Path
) -> None:
    db = str(tmp_path / "state.db")
    one, two = make_fake(db=db), make_fake(db=db)
    one.rules.add({"match": {"method": "GET"}, "effect": {"http_status": 503}, "times": 1})
    two.replica.sync()
    assert one.rules.answer_effects(POLL)[0] is not None
    assert two.rules.answer_effects(POLL)[0] is None  # the one use was made by ``one``


def test_rulebook_delete_answers_the_rules_left(fake: Fake) -> None:
    first, second = fake.rules.add(
        [{"match": {"method": "GET"}, "effect": {"http_status": 503}}] * 2
    )
    assert [r["id"] for r in fake.rules.delete(first.id)] == [second.id]
    assert fake.rules.delete() == []


def test_rulebook_delete_of_an_unknown_rule_is_404(fake: Fake) -> None:
    with pytest.raises(ApiError) as refused:
        fake.rules.delete("no-such-rule")
    assert refused.value.status == 404
