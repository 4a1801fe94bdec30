"""The rule book that makes chosen requests misbehave: the fake's fault injection.

A rule (``rules.py``) is a match and an effect, used the first ``times`` matches or
forever. Two front doors lead here: rules posted to ``/_mock/scenarios`` (or loaded with
``--scenarios FILE``) and magic tokens such as ``[wanmock:fail=content_policy]`` in a
prompt, which become rules of the same kind. Pure Python: the HTTP layer asks
``http_effect`` before it answers and the service asks ``task_effect`` when it plans.
"""

from __future__ import annotations

import itertools
import random
import tomllib
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Final

import orjson

from contracts import facts
from mock_server.domain import ids, lifecycle
from mock_server.domain.errors import ApiError, invalid
from mock_server.domain.models import Plan
from mock_server.domain.rules import (
    TASK_FIELDS,
    Effect,
    Facts,
    Match,
    Rule,
    parse_effect,
    parse_match,
    parse_times,
    tokens,
)

CREATE_PATH: Final = "/v1/videos/generations"
__all__ = ["CREATE_PATH", "Effect", "Facts", "Rule", "Scenarios", "tokens"]


# Counts one use of a rule where every process sees it; False when it has none left.
Claim = Callable[[Rule], bool]
# Keeps a new rule where every process sees it; the rule with its id.
Keep = Callable[[Rule], Rule]


@dataclass
class Scenarios:
    """The rule book of one fake, in the order rules were added.

    On its own it counts uses and numbers rules in memory; the service hands it ``claim``
    and ``keep`` so the store does both, atomically, for every process sharing it.
    """

    rules: list[Rule] = field(default_factory=list)
    _ids: Iterator[int] = field(default_factory=lambda: itertools.count(1))
    claim: Claim | None = None
    keep: Keep | None = None

    def add_spec(self, spec: object, source: str = "control") -> Rule:
        if not isinstance(spec, dict):
            raise invalid("rule", "a rule is an object with match, effect and times")
        unknown = set(spec) - {"name", "match", "effect", "times"}
        if unknown:
            raise invalid(sorted(unknown)[0], f"unknown rule field {sorted(unknown)[0]!r}")
        name = spec.get("name")
        if name is not None and not isinstance(name, str):
            raise invalid("name", "name must be a string")
        return self.add(
            Rule(
                id="",
                match=parse_match(spec.get("match")),
                effect=parse_effect(spec.get("effect")),
                times=parse_times(spec.get("times")),
                name=name,
                source=source,
            )
        )

    def add(self, rule: Rule) -> Rule:
        rule = self.keep(rule) if self.keep else replace(rule, id=ids.rule_id(next(self._ids)))
        self.rules.append(rule)
        return rule

    def _use(self, rule: Rule) -> bool:
        """Count one use of ``rule``; False when another process used it up first."""
        if self.claim is not None and not self.claim(rule):
            rule.used = rule.times if rule.times is not None else rule.used
            return False
        rule.used += 1
        return True

    def remove(self, rule_id: str) -> None:
        before = len(self.rules)
        self.rules = [r for r in self.rules if r.id != rule_id]
        if len(self.rules) == before:
            raise ApiError(404, f"No scenario rule {rule_id}", param="rule_id")

    def clear(self) -> None:
        self.rules.clear()

    def _take(self, facts: Facts, wanted: str) -> Rule | None:
        for rule in self.rules:
            if (
                not rule.exhausted
                and getattr(rule.effect, wanted)
                and rule.match(facts)
                and self._use(rule)
            ):
                return rule
        return None

    def http_effect(self, facts: Facts) -> Rule | None:
        """The first live rule that answers this request itself (and use it up once)."""
        if not self.rules:
            return None
        return self._take(facts, "answers")

    def task_effect(self, facts: Facts) -> Effect | None:
        """Every live rule that shapes the plan of the task this create makes, merged
        (the first rule to set a field wins), each used up once."""
        merged: Effect | None = None
        for rule in self.rules:
            if rule.exhausted or not rule.effect.shapes_task or not rule.match(facts):
                continue
            if not self._use(rule):
                continue
            if merged is None:
                merged = rule.effect
                continue
            unset = {
                name: getattr(rule.effect, name)
                for name in TASK_FIELDS
                if getattr(merged, name) is None and getattr(rule.effect, name) is not None
            }
            merged = replace(merged, **unset)
        return merged

    def decoration(self, facts: Facts) -> dict[str, Any] | None:
        """Extra fields every live matching ``extra_fields`` rule adds to this request's
        answer, merged (the first rule to name a field wins), each rule used up once."""
        merged: dict[str, Any] | None = None
        for rule in self.rules:
            if rule.exhausted or not rule.effect.decorates or not rule.match(facts):
                continue
            if not self._use(rule):
                continue
            merged = {**(rule.effect.extra_fields or {}), **(merged or {})}
        return merged

    def token_rules(self, facts: Facts) -> None:
        """Turn the prompt's magic tokens into rules, once per key and token text."""
        if not facts.prompt or "[wanmock:" not in facts.prompt:
            return
        for text, effect, times, scope in tokens(facts.prompt):
            if scope != "create":
                continue
            conditions = (
                ("key", "", facts.key or ""),
                ("prompt", "__contains", text),
                ("path", "", facts.path),
            )
            if not any(r.match.conditions == conditions for r in self.rules):
                self.add(Rule("", Match(conditions), effect, times, name=text, source="token"))

    def poll_rules(self, prompt: str, key: str, task_id: str) -> None:
        """``poll_http`` tokens: the new task's first polls answer an error."""
        for text, effect, times, scope in tokens(prompt):
            if scope == "poll":
                conditions = (("key", "", key), ("task_id", "", task_id))
                self.add(Rule("", Match(conditions), effect, times, name=text, source="token"))

    def to_json(self) -> list[dict[str, Any]]:
        return [r.to_json() for r in self.rules]

    @classmethod
    def restore(cls, saved: list[dict[str, Any]]) -> Scenarios:
        """The rule book as ``to_json`` left it, use counts and ids included."""
        rules = [
            Rule(
                id=r["id"],
                match=parse_match(r["match"]),
                effect=parse_effect(r["effect"]),
                times=r["times"],
                used=r["used"],
                name=r["name"],
                source=r["source"],
            )
            for r in saved
        ]
        start = max((int(r.id.rsplit("-", 1)[1]) for r in rules), default=0) + 1
        return cls(rules, itertools.count(start))


def shape_plan(plan: Plan, effect: Effect) -> Plan:
    """The plan a task effect asks for (timings, curve, outcome)."""
    code = effect.error_code or ("service_error" if effect.outcome == "failed" else None)
    message = effect.error_message or (facts.task_error_message(code) if code else None)
    return lifecycle.shaped(
        plan,
        queue_seconds=effect.queue_seconds,
        processing_seconds=effect.processing_seconds,
        curve=effect.progress_curve,
        outcome="failed" if effect.outcome == "failed" else None,
        code=code,
        message=message,
        results=effect.results_count,
        points=effect.progress_points,
        estimate=effect.estimated_time,
    )


def add_fields(body: object, extra: Mapping[str, Any]) -> object:
    """``body`` with fields it does not have yet (``a.b`` goes into the object ``a``).

    Never replaces a field the answer has, and never creates an object it lacks, so a
    decorated answer is the real one plus unknown fields, as a newer server could send.
    """
    if not isinstance(body, dict):
        return body
    for path, value in extra.items():
        outer, _, inner = path.partition(".")
        target = body.get(outer) if inner else body
        name = inner or outer
        if isinstance(target, dict) and name not in target:
            target[name] = value
    return body


# What the seeded --failure-rate draws, weighted like a service's bad day (a choice).
RANDOM_FAILURES: Final[dict[str, float]] = {
    "service_error": 4,
    "generation_timeout": 3,
    "content_policy_violation": 2,
    "resource_exhausted": 1,
}


def random_failure(rng: random.Random) -> Effect:
    code = rng.choices(list(RANDOM_FAILURES), list(RANDOM_FAILURES.values()))[0]
    return Effect(outcome="failed", error_code=code)


def read_rules_file(path: str) -> object:
    """A ``--scenarios`` file: JSON, or TOML with ``[[rules]]`` tables."""
    text = Path(path).read_text()
    if path.endswith(".toml"):
        return tomllib.loads(text)
    return orjson.loads(text)


def load_rules(specs: object, scenarios: Scenarios, source: str) -> list[Rule]:
    """Rules from a file's JSON: a list of rules, or {"rules": [...]}."""
    if isinstance(specs, Mapping) and "rules" in specs:
        specs = specs["rules"]
    if not isinstance(specs, list):
        specs = [specs]
    return [scenarios.add_spec(spec, source) for spec in specs]
