"""The create request's documented rules, each failing with the real API's error.

Rules run in a fixed order (model first, as the real router resolves the model before
anything else), so a request that breaks exactly one rule is always rejected naming that
rule's field; ``contracts/strategies.py`` draws such requests to check it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Final
from urllib.parse import urlsplit

from contracts import facts
from mock_server.domain import netguard
from mock_server.domain.errors import ApiError, invalid
from mock_server.domain.models import CreateRequest


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def check_model(body: Mapping[str, Any], forbidden: frozenset[str] = frozenset()) -> str:
    model = body.get("model")
    if model is None or model == "":
        raise invalid("model", "model is required")
    if not isinstance(model, str):
        raise invalid("model", "model must be a string")
    if model not in facts.MODELS:
        raise ApiError(
            404,
            facts.MODEL_NOT_FOUND_MESSAGE,
            param="model",
            fallback_suggestion=facts.DEFAULT_MODEL,
        )
    if model in forbidden:
        raise ApiError(403, facts.MODEL_FORBIDDEN_MESSAGE, param="model")
    return model


def check_prompt(value: object) -> str:
    if value is None:
        raise invalid("prompt", "prompt is required")
    if not isinstance(value, str):
        raise invalid("prompt", "prompt must be a string")
    if not value.strip():
        raise invalid("prompt", "prompt must not be empty")
    if len(value) > facts.PROMPT_MAX_CHARS:
        raise invalid(
            "prompt",
            f"prompt must be at most {facts.PROMPT_MAX_CHARS} characters, got {len(value)}",
        )
    return value


def url_problem(url: str, schemes: tuple[str, ...], max_chars: int) -> str | None:
    if len(url) > max_chars:
        return f"must be at most {max_chars} characters"
    if any(ch.isspace() or ord(ch) < 0x20 or ord(ch) == 0x7F for ch in url):
        return "must not contain whitespace or control characters"
    try:
        parts = urlsplit(url)
        host = parts.hostname
        parts.port  # noqa: B018 - raises ValueError on a malformed port
    except ValueError:
        return "is not a valid URL"
    if parts.scheme.lower() not in schemes:
        return "must use " + " or ".join(s.upper() for s in schemes)
    if not host:
        return "must name a host"
    return None


def check_video_urls(value: object) -> tuple[str, ...]:
    low, high = facts.VIDEO_URLS_RANGE
    if value is None:
        raise invalid("video_urls", "video_urls is required")
    if not isinstance(value, list):
        raise invalid("video_urls", "video_urls must be an array of URLs")
    if not low <= len(value) <= high:
        raise invalid(
            "video_urls", f"video_urls must hold {low} to {high} videos, got {len(value)}"
        )
    for index, url in enumerate(value):
        if not isinstance(url, str):
            raise invalid("video_urls", f"video_urls[{index}] must be a string")
        problem = url_problem(url, facts.VIDEO_URL_SCHEMES, facts.URL_MAX_CHARS)
        if problem:
            raise invalid("video_urls", f"video_urls[{index}] {problem}")
    return tuple(value)


def _choice(field: str, options: tuple[str, ...], default: str) -> Callable[[object], str]:
    def check(value: object) -> str:
        if value is None:
            return default
        if value not in options:
            raise invalid(field, f"{field} must be one of {', '.join(options)}")
        return str(value)

    return check


def check_duration(value: object) -> int:
    low, high = facts.DURATION_RANGE
    if value is None:
        return facts.DEFAULT_DURATION
    if not _is_int(value):
        raise invalid("duration", f"duration must be an integer between {low} and {high}")
    assert isinstance(value, int)
    if not low <= value <= high:
        raise invalid("duration", f"duration must be between {low} and {high} seconds, got {value}")
    return value


def check_model_params(value: object) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise invalid("model_params", "model_params must be an object")
    audio = value.get("generate_audio")
    if audio is not None and not isinstance(audio, bool):
        raise invalid("model_params", "model_params.generate_audio must be a boolean")
    shot_type = value.get("shot_type")
    if shot_type is not None and shot_type not in facts.SHOT_TYPES:
        raise invalid(
            "model_params", f"model_params.shot_type must be one of {', '.join(facts.SHOT_TYPES)}"
        )
    return dict(value)


def check_generate_audio(value: object) -> bool | None:
    if value is not None and not isinstance(value, bool):
        raise invalid("generate_audio", "generate_audio must be a boolean")
    return value


def check_callback_url(value: object, allowed_hosts: frozenset[str] = frozenset()) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise invalid("callback_url", "callback_url must be a string")
    problem = url_problem(value, facts.CALLBACK_URL_SCHEMES, facts.CALLBACK_URL_MAX_CHARS)
    if problem is None:
        host = urlsplit(value).hostname or ""
        if host.lower() not in allowed_hosts:
            problem = netguard.host_problem(host)
    if problem:
        raise invalid("callback_url", f"callback_url {problem}")
    return value


# Field order is the order rules are checked in.
FIELD_RULES: Final[tuple[tuple[str, Callable[[object], Any]], ...]] = (
    ("prompt", check_prompt),
    ("video_urls", check_video_urls),
    ("aspect_ratio", _choice("aspect_ratio", facts.ASPECT_RATIOS, facts.DEFAULT_ASPECT_RATIO)),
    ("quality", _choice("quality", facts.QUALITIES, facts.DEFAULT_QUALITY)),
    ("duration", check_duration),
    ("model_params", check_model_params),
    ("generate_audio", check_generate_audio),
)


def parse_create(
    body: object,
    *,
    allowed_callback_hosts: frozenset[str] = frozenset(),
    forbidden_models: frozenset[str] = frozenset(),
) -> CreateRequest:
    """A valid ``CreateRequest`` from a decoded JSON body, or the real API's ApiError."""
    if not isinstance(body, dict):
        raise invalid("body", "Request body must be a JSON object")
    model = check_model(body, forbidden_models)
    values = {name: rule(body.get(name)) for name, rule in FIELD_RULES}
    callback_url = check_callback_url(body.get("callback_url"), allowed_callback_hosts)
    for name in body:
        if name not in facts.CREATE_FIELDS:
            raise invalid(str(name), f"Unknown parameter: {name}")
    # Flash documents a top-level ``generate_audio``; real clients put it in
    # model_params. Both are honoured, the top-level one first (SOURCES.md).
    if values["generate_audio"] is None:
        values["generate_audio"] = values["model_params"].get("generate_audio", True)
    return CreateRequest(model=model, callback_url=callback_url, **values)
