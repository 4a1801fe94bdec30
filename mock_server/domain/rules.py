"""Scenario rules as data: what a rule matches, what it does, and how one is read from
JSON or from a magic prompt token.

Everything here validates eagerly and fails with a 400 naming the field, in the real
API's envelope, so a bad rule never reaches the rule book (``scenarios.py``).
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, fields
from typing import Any, Final

from mock_server.domain import faults
from mock_server.domain.errors import ApiError, invalid
from mock_server.domain.shapes import parse_shapes
from mock_server.domain.transport import parse_transport


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
    reset_connection: bool = False
    truncate_body: bool = False
    hang_seconds: float = 0.0
    delay_seconds: float = 0.0
    outcome: str | None = None
    error_code: str | None = None
    error_message: str | None = None
    queue_seconds: float | None = None
    processing_seconds: float | None = None
    progress_curve: float | None = None
    results_count: int | None = None
    progress_points: tuple[tuple[float, int], ...] | None = None
    estimated_time: int | None = None
    extra_fields: dict[str, Any] | None = None

    @property
    def answers(self) -> bool:
        return (
            self.http_status is not None
            or self.drop_connection
            or self.delay_seconds > 0
            or self.hang_seconds > 0
            or self.reset_connection
            or self.truncate_body
        )

    @property
    def shapes_task(self) -> bool:
        return any(
            v is not None
            for v in (
                self.outcome,
                self.queue_seconds,
                self.processing_seconds,
                self.progress_curve,
                self.results_count,
                self.progress_points,
                self.estimated_time,
            )
        )

    @property
    def decorates(self) -> bool:
        """Adds unknown fields to the JSON answer the request gets (a client's tolerance)."""
        return bool(self.extra_fields)

    def to_json(self) -> dict[str, Any]:
        # Only defaults are left out: queue_seconds 0 or estimated_time 0 is a choice, and
        # the rule book's store round trip must keep it.
        defaults = {f.name: f.default for f in fields(self)}
        return {k: v for k, v in asdict(self).items() if v != defaults[k]}


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
    "results_count",
    "progress_points",
    "estimated_time",
)
CURVES: Final = {"linear": 1.0, "ease": 2.0, "ease-out": 2.0, "steep": 3.0}


# Bounds that keep a rule from wedging the fake (a slow answer of 1e300 s, say).
LIMITS: Final = {
    "delay_seconds": 600.0,
    "queue_seconds": 30 * 86400.0,
    "processing_seconds": 30 * 86400.0,
    "progress_curve": 10.0,
}
MAX_TIMES: Final = 1_000_000
MAX_EXTRA_FIELDS: Final = 32
_FIELD_PATH: Final = re.compile(r"[A-Za-z_][A-Za-z0-9_-]{0,63}(\.[A-Za-z_][A-Za-z0-9_-]{0,63})?")
_HEADER_NAME: Final = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")


def _number(where: str, value: object, *, minimum: float = 0.0) -> float:
    maximum = LIMITS[where.rpartition(".")[2]]
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not minimum <= value <= maximum
    ):
        raise invalid(where, f"{where} must be a number from {minimum:g} to {maximum:g}")
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
        for name, text in values["headers"].items():
            if not _HEADER_NAME.fullmatch(name) or any(c in text for c in "\r\n\0"):
                raise invalid("effect.headers", f"header {name!r} is not a valid HTTP header")
    for name in ("message", "error_message"):
        if spec.get(name) is not None:
            if not isinstance(spec[name], str):
                raise invalid(f"effect.{name}", f"{name} must be a string")
            values[name] = spec[name]
    parse_transport(spec, values)
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
    parse_shapes(spec, values)
    if spec.get("extra_fields") is not None:
        values["extra_fields"] = _extra_fields(spec["extra_fields"])
    return Effect(**values)


def _extra_fields(spec: object) -> dict[str, Any]:
    """``{"name": value}`` or ``{"object.name": value}`` (one level into an object the
    answer already has, such as ``task_info``); any JSON value."""
    if not isinstance(spec, dict) or not 0 < len(spec) <= MAX_EXTRA_FIELDS:
        raise invalid(
            "effect.extra_fields",
            f"extra_fields must be an object of 1 to {MAX_EXTRA_FIELDS} fields",
        )
    for name in spec:
        if not isinstance(name, str) or not _FIELD_PATH.fullmatch(name):
            raise invalid(
                "effect.extra_fields",
                f"extra field {name!r} must be a name, or object.name for a nested field",
            )
    return dict(spec)


def parse_times(value: object) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_TIMES:
        raise invalid(
            "times", f"times must be an integer from 1 to {MAX_TIMES}, or null for unlimited"
        )
    return value


TOKEN_RE: Final = re.compile(r"\[wanmock:([a-z_]+)(?:=([^\]\s*]*))?(?:\*(\d{1,7}))?\]")


def _token_effect(name: str, arg: str, times: int) -> tuple[Effect, int | None, str]:
    """One magic token as (effect, times, scope); scope is "create" or "poll"."""
    try:
        if name == "fail":
            return parse_effect({"error_code": arg or "service_error"}), None, "create"
        if name in ("delay", "queue", "slow"):
            field = {
                "delay": "processing_seconds",
                "queue": "queue_seconds",
                "slow": "delay_seconds",
            }[name]
            return parse_effect({field: float(arg)}), None, "create"
        if name == "curve":
            curve: object = arg if arg in CURVES else float(arg)
            return parse_effect({"progress_curve": curve}), None, "create"
        if name in ("http", "poll_http"):
            scope = "poll" if name == "poll_http" else "create"
            return parse_effect({"http_status": int(arg)}), parse_times(times), scope
        if name == "drop" and not arg:
            return Effect(drop_connection=True), parse_times(times), "create"
    except ValueError:
        problem = "see the token list in docs/scenarios.md"
    except ApiError as error:
        problem = error.message
    else:
        problem = f"unknown token {name!r}; see the token list in docs/scenarios.md"
    token = f"[wanmock:{name}{'=' + arg if arg else ''}]"
    raise invalid("prompt", f"bad magic token {token}: {problem}")


def tokens(prompt: str) -> list[tuple[str, Effect, int | None, str]]:
    """Magic tokens in a prompt as (token text, effect, times, scope)."""
    return [
        (m.group(0), *_token_effect(m.group(1), m.group(2) or "", int(m.group(3) or 1)))
        for m in TOKEN_RE.finditer(prompt)
    ]
