"""Hypothesis strategies for the Wan2.6 contract.

Each strategy draws values the real API's documentation talks about (SOURCES.md
"Create request"), so the same vocabulary serves the fake's own tests, provider
verification and client verification.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from hypothesis import strategies as st

from mock_server import catalog

_HOST_LABELS = st.from_regex(r"[a-z][a-z0-9-]{0,14}[a-z0-9]", fullmatch=True)
_PUBLIC_SUFFIXES = st.sampled_from(["com", "org", "net", "io", "ai", "cn"])


def public_hosts() -> st.SearchStrategy[str]:
    """DNS names under public suffixes (never ``.local``/``.internal``); shrinks to ``a.com``."""
    return st.builds(
        lambda labels, tld: ".".join([*labels, tld]),
        st.lists(_HOST_LABELS, min_size=1, max_size=3),
        _PUBLIC_SUFFIXES,
    )


def video_urls() -> st.SearchStrategy[str]:
    """http or https URLs of an mp4/mov file on a public host."""
    path = st.from_regex(r"[a-zA-Z0-9_/-]{0,40}", fullmatch=True)
    return st.builds(
        lambda scheme, host, p, ext: f"{scheme}://{host}/{p}.{ext}",
        st.sampled_from(["http", "https"]),
        public_hosts(),
        path,
        st.sampled_from(["mp4", "mov"]),
    )


def callback_urls() -> st.SearchStrategy[str]:
    """HTTPS URLs on public hosts, which the SSRF guard must let through."""
    return st.builds(
        lambda host, p: f"https://{host}/{p}",
        public_hosts(),
        st.from_regex(r"[a-z0-9/_-]{0,60}", fullmatch=True),
    )


def prompts() -> st.SearchStrategy[str]:
    """Any Unicode text of 1..1500 characters that is not blank (odd scripts, emoji, NUL)."""
    return st.text(min_size=1, max_size=catalog.PROMPT_MAX_CHARS).filter(lambda s: s.strip())


@st.composite
def create_requests(draw: st.DrawFn) -> dict[str, Any]:
    """Valid create bodies: required fields always, each optional field sometimes.

    Shrinks towards the smallest valid body: default model, short prompt, one URL.
    """
    body: dict[str, Any] = {
        "model": draw(st.sampled_from(sorted(catalog.MODELS))),
        "prompt": draw(prompts()),
        "video_urls": draw(st.lists(video_urls(), min_size=1, max_size=3)),
    }
    optional = {
        "aspect_ratio": st.sampled_from(catalog.ASPECT_RATIOS),
        "quality": st.sampled_from(catalog.QUALITIES),
        "duration": st.integers(*catalog.DURATION_RANGE),
        "model_params": st.fixed_dictionaries(
            {},
            optional={
                "generate_audio": st.booleans(),
                "shot_type": st.sampled_from(catalog.SHOT_TYPES),
            },
        ),
        "callback_url": callback_urls(),
    }
    for name, values in optional.items():
        if draw(st.booleans()):
            body[name] = draw(values)
    return body


@dataclass(frozen=True)
class BrokenRequest:
    """A create body that breaks exactly one documented rule, and the answer it deserves."""

    body: dict[str, Any]
    param: str
    status: int
    rule: str


_TOO_LONG_URL = "https://example.com/" + "a" * catalog.URL_MAX_CHARS

# field -> (rule name, bad value, expected status); ``...`` means "leave the field out".
RULE_BREAKERS: dict[str, list[tuple[str, Any, int]]] = {
    "model": [
        ("missing", ..., 400),
        ("not a string", 7, 400),
        ("unknown model", "wan2.5-reference-video", 404),
        ("empty", "", 400),
    ],
    "prompt": [
        ("missing", ..., 400),
        ("empty", "", 400),
        ("blank", "   \n", 400),
        ("not a string", 12, 400),
        ("null", None, 400),
        ("too long", "x" * (catalog.PROMPT_MAX_CHARS + 1), 400),
    ],
    "video_urls": [
        ("missing", ..., 400),
        ("empty", [], 400),
        ("four videos", ["https://a.com/1.mp4"] * 4, 400),
        ("not an array", "https://a.com/1.mp4", 400),
        ("item not a string", [1], 400),
        ("ftp scheme", ["ftp://a.com/1.mp4"], 400),
        ("no host", ["https:///x.mp4"], 400),
        ("relative", ["/videos/1.mp4"], 400),
        ("too long", [_TOO_LONG_URL], 400),
    ],
    "aspect_ratio": [
        ("unknown ratio", "21:9", 400),
        ("not a string", 1.77, 400),
        ("padded", "16:9 ", 400),
    ],
    "quality": [
        ("unknown quality", "4k", 400),
        ("wrong case", "720P", 400),
        ("not a string", 720, 400),
    ],
    "duration": [
        ("below range", 1, 400),
        ("above range", 11, 400),
        ("zero", 0, 400),
        ("negative", -5, 400),
        ("fraction", 5.5, 400),
        ("string", "5", 400),
        ("boolean", True, 400),
        ("float", 5.0, 400),
    ],
    "model_params": [
        ("not an object", "single", 400),
        ("bad shot_type", {"shot_type": "x"}, 400),
        ("generate_audio not bool", {"generate_audio": "yes"}, 400),
    ],
    "generate_audio": [("not a boolean", "false", 400)],
    "callback_url": [
        ("http", "http://example.com/hook", 400),
        ("loopback", "https://127.0.0.1/hook", 400),
        ("private", "https://10.0.0.8/hook", 400),
        ("localhost", "https://localhost/hook", 400),
        ("metadata", "https://169.254.169.254/latest", 400),
        ("decimal ip", "https://2130706433/hook", 400),
        ("ipv6 loopback", "https://[::1]/hook", 400),
        ("mapped ipv6", "https://[::ffff:192.168.0.1]/hook", 400),
        ("too long", "https://example.com/" + "a" * 2048, 400),
        ("not a string", ["https://example.com"], 400),
    ],
}


@st.composite
def broken_create_requests(draw: st.DrawFn) -> BrokenRequest:
    """A valid body with exactly one field broken by one of ``RULE_BREAKERS``.

    Shrinks towards the first field and the first breaker of that field.
    """
    body = draw(create_requests())
    field = draw(st.sampled_from(list(RULE_BREAKERS)))
    rule, value, status = draw(st.sampled_from(RULE_BREAKERS[field]))
    if value is ...:
        body.pop(field, None)
    else:
        body[field] = value
    return BrokenRequest(body, field, status, f"{field}: {rule}")


@st.composite
def unknown_field_requests(draw: st.DrawFn) -> BrokenRequest:
    """A valid body plus one field the API does not document."""
    body = draw(create_requests())
    name = draw(
        st.from_regex(r"[a-z_]{1,20}", fullmatch=True).filter(
            lambda n: n not in body and n not in RULE_BREAKERS and n != "generate_audio"
        )
    )
    body[name] = draw(st.one_of(st.integers(), st.text(max_size=5), st.booleans()))
    return BrokenRequest(body, name, 400, "unknown field")
