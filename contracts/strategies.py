"""Hypothesis strategies for the Wan2.6 contract.

Each strategy draws values the real API's documentation talks about (SOURCES.md
"Create request"), so the same vocabulary serves the fake's own tests, provider
verification and client verification.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument

from contracts import facts
from contracts.checks.core import TaskHistory
from contracts.client import world_strategies
from contracts.client.world import ServerWorld, Transient

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
    return st.text(min_size=1, max_size=facts.PROMPT_MAX_CHARS).filter(lambda s: s.strip())


@st.composite
def create_requests(draw: st.DrawFn) -> dict[str, Any]:
    """Valid create bodies: required fields always, each optional field sometimes.

    Shrinks towards the smallest valid body: default model, short prompt, one URL.
    """
    body: dict[str, Any] = {
        "model": draw(st.sampled_from(sorted(facts.MODELS))),
        "prompt": draw(prompts()),
        "video_urls": draw(st.lists(video_urls(), min_size=1, max_size=3)),
    }
    optional = {
        "aspect_ratio": st.sampled_from(facts.ASPECT_RATIOS),
        "quality": st.sampled_from(facts.QUALITIES),
        "duration": st.integers(*facts.DURATION_RANGE),
        "model_params": st.fixed_dictionaries(
            {},
            optional={
                "generate_audio": st.booleans(),
                "shot_type": st.sampled_from(facts.SHOT_TYPES),
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


_TOO_LONG_URL = "https://example.com/" + "a" * facts.URL_MAX_CHARS

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
        ("too long", "x" * (facts.PROMPT_MAX_CHARS + 1), 400),
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


_ID_SUFFIXES = st.from_regex(r"[a-z0-9]{8}", fullmatch=True)
_HISTORY_REQUEST = {"prompt": "A person dancing", "video_urls": ["https://example.com/ref.mp4"]}


def _result_urls() -> st.SearchStrategy[list[str]]:
    return st.lists(
        st.builds(
            lambda host, n: f"https://{host}/results/{n}.mp4", public_hosts(), st.integers(0)
        ),
        min_size=1,
        max_size=3,
    )


@st.composite
def _task_errors(draw: st.DrawFn) -> dict[str, str]:
    code = draw(st.sampled_from(sorted(facts.TASK_ERROR_CODES)))
    message = draw(st.just(facts.task_error_message(code)) | st.text(max_size=80))
    error = {"code": code, "message": message}
    if draw(st.booleans()):
        error["type"] = draw(st.sampled_from(sorted(set(facts.ERROR_TYPES.values()))))
    return error


@st.composite
def task_histories(draw: st.DrawFn) -> TaskHistory:
    """What one client could see of one task, any history the contract's rules allow:
    the create answer, then polls. Drawn from the rules themselves (SOURCES.md "Task
    object"), not from any server's lifecycle: status never goes backwards (pending, then
    processing, then completed or failed, or the history stops short of an end); progress
    is 0 while pending and never falls while processing; a completed task has progress
    100 and 1-3 result URLs; a failed one has an ``error`` with a documented code and any
    progress (undocumented, so free); only an ended task has ``can_cancel`` false; an
    ended task is seen the same on every later poll; ``estimated_time`` is any count;
    every answer carries ``usage`` with its three documented fields.

    Shrinks towards one pending observation and one completed one.
    """
    # Only the model shapes what a history may show; a lean request keeps drawing quick.
    request = {**_HISTORY_REQUEST, "model": draw(st.sampled_from(facts.MODELS))}
    ending = draw(st.sampled_from(["completed", "failed", None]))
    pending = draw(st.integers(0 if ending else 1, 3))
    processing = sorted(draw(st.lists(st.integers(0, 100), max_size=6)))
    created = draw(st.integers(1_700_000_000, 1_900_000_000))
    usage = draw(
        st.fixed_dictionaries(
            {
                "billing_rule": st.sampled_from(facts.BILLING_RULES),
                "credits_reserved": st.integers(0, 10_000) | st.floats(0, 10_000),
                "user_group": st.sampled_from(facts.USER_GROUPS),
            }
        )
    )
    base: dict[str, Any] = {
        "created": created,
        "id": f"task-unified-{created}-{draw(_ID_SUFFIXES)}",
        "model": request["model"],
        "object": "video.generation.task",
        "type": "video",
        "usage": usage,
    }

    def seen(status: str, progress: int, **fields: Any) -> dict[str, Any]:
        info = {
            "can_cancel": status not in facts.TERMINAL_STATUSES,
            "estimated_time": draw(st.integers(0, 600)),
        }
        return {**base, "status": status, "progress": progress, "task_info": info, **fields}

    observations = [seen("pending", 0) for _ in range(pending)]
    observations += [seen("processing", progress) for progress in processing]
    if ending == "completed":
        last = seen("completed", 100, results=draw(_result_urls()))
    if ending == "failed":
        last = seen("failed", draw(st.integers(0, 100)), error=draw(_task_errors()))
    if ending:
        observations += [copy.deepcopy(last) for _ in range(draw(st.integers(1, 3)))]
    return TaskHistory(observations, request=request)


# Unknown fields a newer server could add: names no EvoLink client reads (SOURCES.md
# "Client verification"), at the top level or inside objects every task object has.
EXTRA_FIELD_NAMES = ("metadata", "task_info.queue_position", "usage.discount", "region")
TRANSIENT_STATUSES = (429, 503, 502)  # what EvoLink's own client retries ([CLIENT])
# A create may also meet 500 or 504: the server may or may not have made the task, so a
# client may report failed or send it again (SOURCES.md "Client verification"). Never on
# polls: EvoLink's own client does not retry them, and a poll's worlds ask no more.
UNKNOWN_STATUSES = (500, 504)
CREATE_STATUSES = (*TRANSIENT_STATUSES, *UNKNOWN_STATUSES)
MAX_CONSECUTIVE_FAILURES = 3  # failures in a row on one request: [CLIENT] queryTask's 3
PROGRESS_CURVES = ("linear", "ease", "steep")


def _check_count(name: str, value: object, high: int = 100) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= high:
        raise InvalidArgument(f"{name}={value!r} must be an integer from 0 to {high}")
    return value


def _json_values() -> st.SearchStrategy[Any]:
    scalars = st.one_of(st.none(), st.booleans(), st.integers(-(2**31), 2**31), st.text(max_size=8))
    return st.one_of(
        scalars,
        st.lists(scalars, max_size=2),
        st.dictionaries(st.text(max_size=5), scalars, max_size=2),
    )


def transients(
    max_times: int, *, max_retry_after: int = 2, statuses: tuple[int, ...] = TRANSIENT_STATUSES
) -> st.SearchStrategy[tuple[Transient, ...]]:
    """Runs of transient answers (429/503/502, or ``statuses``), ``max_times`` in all at most.

    Each run has a ``Retry-After`` of 0..``max_retry_after`` seconds, or none. Shrinks
    towards no run, then one 429 with ``Retry-After: 0``.
    """
    _check_count("max_times", max_times)
    _check_count("max_retry_after", max_retry_after, 3600)

    @st.composite
    def runs(draw: st.DrawFn) -> tuple[Transient, ...]:
        left, found = max_times, []
        while left and draw(st.booleans()):
            times = draw(st.integers(1, left))
            status = draw(st.sampled_from(statuses))
            retry_after = (  # a 500/504 asks for no wait: the request may have been made
                None
                if status in UNKNOWN_STATUSES
                else draw(st.one_of(st.integers(0, max_retry_after), st.none()))
            )
            found.append(Transient(status, retry_after, times))
            left -= times
        return tuple(found)

    return runs()


def server_worlds(
    *,
    max_create_errors: int = 1,
    max_poll_errors: int = 3,
    max_retry_after: int = 2,
    max_consecutive_failures: int = MAX_CONSECUTIVE_FAILURES,
) -> st.SearchStrategy[ServerWorld]:
    """Ways the real API may treat one client's task, as the contract allows.

    Draws: how long the task is queued (0–60 s) and processed (1–180 s), its progress
    curve or progress in steps (stalled at 0, jumps, plateaus), an ``estimated_time``
    that processing may outlast, whether it completes (with 1–4 result links) or fails
    (with any real failure code), runs of transient 429/503/502 answers with or without
    ``Retry-After`` on the create (at most ``max_create_errors``; there also 500 and 504,
    whose outcome is unknown) and on the first polls
    (at most ``max_poll_errors``), each with a ``Retry-After`` of at most
    ``max_retry_after`` seconds (real seconds a polite client waits, so keep it small),
    transport faults on the create and on polls (dropped, hung, reset mid-body,
    truncated), unknown fields in answers, and callbacks that fail (so they are delivered again, up
    to 3 times) or answer late. The defaults are what EvoLink's own client survives: it
    retries a create once and a poll three times
    (SOURCES.md "Client verification"). No request meets more than
    ``max_consecutive_failures`` failures in a row, error answers and transport faults
    counted together (the later faults are left out).

    Shrinks towards the well-behaved world: queued 0 s, processed 1 s, linear progress,
    completed, no transient answer, no unknown field, one timely callback; a failure
    shrinks towards the first code of ``contracts.facts.TASK_ERRORS``.
    """
    _check_count("max_create_errors", max_create_errors)
    _check_count("max_poll_errors", max_poll_errors)
    _check_count("max_retry_after", max_retry_after, 3600)
    budget = _check_count("max_consecutive_failures", max_consecutive_failures)
    fields = st.dictionaries(st.sampled_from(EXTRA_FIELD_NAMES), _json_values(), max_size=3)
    return st.builds(
        ServerWorld,
        queue_seconds=st.integers(0, 60),
        processing_seconds=st.integers(1, 180),
        progress_curve=st.sampled_from(PROGRESS_CURVES),
        error_code=st.one_of(st.none(), st.sampled_from(list(facts.TASK_ERRORS))),
        results_count=st.integers(1, 4),
        progress_points=world_strategies.progress_steps(),
        estimated_time=world_strategies.estimates(),
        faults=world_strategies.faults(),
        create_errors=transients(
            max_create_errors, max_retry_after=max_retry_after, statuses=CREATE_STATUSES
        ),
        poll_errors=transients(max_poll_errors, max_retry_after=max_retry_after),
        extra_fields=fields.map(lambda d: tuple(sorted(d.items()))),
        callback_failures=st.integers(0, 2),
        late_callback=st.booleans(),
    ).map(lambda world: world.within(budget))
