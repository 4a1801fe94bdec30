"""Rules that make chosen requests misbehave: the fake's fault injection.

A rule is a match (which requests) and an effect (what happens), used the first ``times``
matches or forever. Two front doors lead here: rules posted to ``/_mock/scenarios`` (or
loaded with ``--scenarios FILE``) and magic tokens such as ``[wanmock:fail=content_policy]``
in a prompt, which become rules of the same kind. Pure Python: the HTTP layer asks
``http_effect`` before it answers and the service asks ``task_effect`` when it plans.
"""

from __future__ import annotations

import itertools
import random
import re
import tomllib
from collections.abc import Iterator, Mapping
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any, Final

import orjson

from mock_server import faults, lifecycle
from mock_server.errors import ApiError, invalid
from mock_server.models import Plan

CREATE_PATH: Final = "/v1/videos/generations"


@dataclass(frozen=True, slots=True)
class Facts:
    """What a rule can match on, taken from one request."""

    method: str
    path: str
    key: str | None = None
    model: str | None = None
    prompt: str | None = None
    task_id: str | None = None


# lookup -> (fact, test). Exact names match equality; suffixes follow respx's lookups.
_LOOKUPS: Final = ("", "__contains", "__regex", "__startswith")
MATCH_FIELDS: Final = ("method", "path", "key", "model", "prompt", "task_id")


@dataclass(frozen=True, slots=True)
class Match:
    """Every condition must hold; an empty match matches every request."""

    conditions: tuple[tuple[str, str, str], ...] = ()  # (fact, lookup, value)

    def __call__(self, facts: Facts) -> bool:
        for name, lookup, value in self.conditions:
            actual = getattr(facts, name)
            if actual is None:
                return False
            if lookup == "":
                ok = actual.upper() == value.upper() if name == "method" else actual == value
            elif lookup == "__contains":
                ok = value in actual
            elif lookup == "__startswith":
                ok = actual.startswith(value)
            else:
                ok = re.search(value, actual) is not None
            if not ok:
                return False
        return True

    def to_json(self) -> dict[str, str]:
        return {f"{name}{lookup}": value for name, lookup, value in self.conditions}


@dataclass(frozen=True, slots=True)
class Effect:
    """What a matching request gets. HTTP effects answer the request itself; task effects
    shape the plan of the task a matching create makes."""

    http_status: int | None = None
    headers: dict[str, str] | None = None
    message: str | None = None
    drop_connection: bool = False
    delay_seconds: float = 0.0
    outcome: str | None = None
    error_code: str | None = None
    error_message: str | None = None
    queue_seconds: float | None = None
    processing_seconds: float | None = None
    progress_curve: float | None = None

    @property
    def answers(self) -> bool:
        return self.http_status is not None or self.drop_connection or self.delay_seconds > 0

    @property
    def shapes_task(self) -> bool:
        return any(
            v is not None
            for v in (
                self.outcome,
                self.queue_seconds,
                self.processing_seconds,
                self.progress_curve,
            )
        )

    def to_json(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if v not in (None, False, 0.0)}


@dataclass(slots=True)
class Rule:
    id: str
    match: Match
    effect: Effect
    times: int | None = None
    used: int = 0
    name: str | None = None
    source: str = "control"

    @property
    def exhausted(self) -> bool:
        return self.times is not None and self.used >= self.times

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "match": self.match.to_json(),
            "effect": self.effect.to_json(),
            "times": self.times,
            "used": self.used,
            "remaining": None if self.times is None else self.times - self.used,
            "source": self.source,
        }


TASK_FIELDS: Final = (
    "outcome",
    "error_code",
    "error_message",
    "queue_seconds",
    "processing_seconds",
    "progress_curve",
)
CURVES: Final = {"linear": 1.0, "ease": 2.0, "ease-out": 2.0, "steep": 3.0}


def _number(where: str, value: object, *, minimum: float = 0.0) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or value < minimum:
        raise invalid(where, f"{where} must be a number >= {minimum:g}")
    return float(value)


def parse_match(spec: object) -> Match:
    if spec is None:
        return Match()
    if not isinstance(spec, dict):
        raise invalid("match", 'match must be an object such as {"prompt__contains": "x"}')
    conditions = []
    for key, value in spec.items():
        name, lookup = next(
            ((key[: -len(s)], s) for s in _LOOKUPS[1:] if key.endswith(s)), (key, "")
        )
        if name not in MATCH_FIELDS:
            raise invalid(
                f"match.{key}",
                f"unknown match field {key!r}; use one of "
                f"{', '.join(MATCH_FIELDS)} with an optional __contains, "
                "__startswith or __regex",
            )
        if not isinstance(value, str):
            raise invalid(f"match.{key}", f"match.{key} must be a string")
        if lookup == "__regex":
            try:
                re.compile(value)
            except re.error as exc:
                raise invalid(f"match.{key}", f"bad regular expression: {exc}") from None
        conditions.append((name, lookup, value))
    return Match(tuple(conditions))


def parse_effect(spec: object) -> Effect:
    if not isinstance(spec, dict) or not spec:
        raise invalid("effect", "effect must be a non-empty object")
    known = set(Effect.__dataclass_fields__)
    for key in spec:
        if key not in known:
            raise invalid(
                f"effect.{key}", f"unknown effect {key!r}; use one of {', '.join(sorted(known))}"
            )
    values: dict[str, Any] = {}
    status = spec.get("http_status")
    if status is not None:
        if isinstance(status, bool) or not isinstance(status, int) or not 400 <= status <= 599:
            raise invalid("effect.http_status", "http_status must be an integer 400-599")
        values["http_status"] = status
    headers = spec.get("headers")
    if headers is not None:
        if not isinstance(headers, dict) or not all(
            isinstance(v, str | int) for v in headers.values()
        ):
            raise invalid("effect.headers", "headers must be an object of strings")
        values["headers"] = {str(k): str(v) for k, v in headers.items()}
    for name in ("message", "error_message"):
        if spec.get(name) is not None:
            if not isinstance(spec[name], str):
                raise invalid(f"effect.{name}", f"{name} must be a string")
            values[name] = spec[name]
    if spec.get("drop_connection") is not None:
        if not isinstance(spec["drop_connection"], bool):
            raise invalid("effect.drop_connection", "drop_connection must be true or false")
        values["drop_connection"] = spec["drop_connection"]
    for name in ("delay_seconds", "queue_seconds", "processing_seconds"):
        if spec.get(name) is not None:
            values[name] = _number(f"effect.{name}", spec[name])
    outcome = spec.get("outcome")
    if outcome is not None:
        if outcome not in ("completed", "failed"):
            raise invalid("effect.outcome", "outcome must be completed or failed")
        values["outcome"] = outcome
    code = spec.get("error_code")
    if code is not None:
        if not isinstance(code, str) or not code:
            raise invalid("effect.error_code", "error_code must be a non-empty string")
        values["error_code"] = faults.task_error_code(code)
        values.setdefault("outcome", "failed")
    curve = spec.get("progress_curve")
    if curve is not None:
        values["progress_curve"] = (
            CURVES.get(curve)
            if isinstance(curve, str)
            else _number("effect.progress_curve", curve, minimum=0.1)
        )
        if values["progress_curve"] is None:
            raise invalid(
                "effect.progress_curve", f"progress_curve is a number or one of {', '.join(CURVES)}"
            )
    return Effect(**values)


def parse_times(value: object) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise invalid("times", "times must be a positive integer, or null for unlimited")
    return value


TOKEN_RE: Final = re.compile(r"\[wanmock:([a-z_]+)(?:=([^\]\s]*))?\]")
_COUNT_RE: Final = re.compile(r"(.+?)(?:\*(\d+))?")


def _token_effect(name: str, value: str | None) -> tuple[Effect, int | None, str]:
    """One magic token as (effect, times, scope); scope is "create" or "poll"."""
    raw = value or ""
    counted = _COUNT_RE.fullmatch(raw) if raw else None
    arg, times = (counted.group(1), int(counted.group(2) or 1)) if counted else ("", 1)
    try:
        if name == "fail":
            return parse_effect({"error_code": arg or "service_error"}), None, "create"
        if name == "delay":
            return parse_effect({"processing_seconds": float(arg)}), None, "create"
        if name == "queue":
            return parse_effect({"queue_seconds": float(arg)}), None, "create"
        if name == "curve":
            curve: object = float(arg) if arg.replace(".", "", 1).isdigit() else arg
            return parse_effect({"progress_curve": curve}), None, "create"
        if name == "http":
            return parse_effect({"http_status": int(arg)}), times, "create"
        if name == "poll_http":
            return parse_effect({"http_status": int(arg)}), times, "poll"
        if name == "drop":
            return Effect(drop_connection=True), int(arg) if arg.isdigit() else times, "create"
        if name == "slow":
            return parse_effect({"delay_seconds": float(arg)}), None, "create"
    except ValueError:
        pass
    raise invalid("prompt", f"bad magic token [wanmock:{name}={raw}]; see the README's token list")


def tokens(prompt: str) -> list[tuple[str, Effect, int | None, str]]:
    """Magic tokens in a prompt as (token text, effect, times, scope)."""
    return [(m.group(0), *_token_effect(m.group(1), m.group(2))) for m in TOKEN_RE.finditer(prompt)]


@dataclass
class Scenarios:
    """The rule book of one fake, in the order rules were added."""

    rules: list[Rule] = field(default_factory=list)
    _ids: Iterator[int] = field(default_factory=lambda: itertools.count(1))

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
        rule = replace(rule, id=f"rule-{next(self._ids)}")
        self.rules.append(rule)
        return rule

    def remove(self, rule_id: str) -> None:
        before = len(self.rules)
        self.rules = [r for r in self.rules if r.id != rule_id]
        if len(self.rules) == before:
            raise ApiError(404, f"No scenario rule {rule_id}", param="rule_id")

    def clear(self) -> None:
        self.rules.clear()

    def _take(self, facts: Facts, wanted: str) -> Rule | None:
        for rule in self.rules:
            if not rule.exhausted and getattr(rule.effect, wanted) and rule.match(facts):
                rule.used += 1
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
            rule.used += 1
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
    message = effect.error_message or (faults.task_error_message(code) if code else None)
    return lifecycle.shaped(
        plan,
        queue_seconds=effect.queue_seconds,
        processing_seconds=effect.processing_seconds,
        curve=effect.progress_curve,
        outcome="failed" if effect.outcome == "failed" else None,
        code=code,
        message=message,
    )


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
