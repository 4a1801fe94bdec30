"""``/_mock/ui``: the dashboard page, its live-update endpoint and its assets.

Under the control API's access rules (``control.check_access``): without a control token
only loopback peers get anything; with one, the page and its assets (which hold no
state) are served to anyone, and the page asks for the token once, keeps it in the tab's
sessionStorage and sends it as ``Authorization: Bearer`` on every fetch.

``GET /_mock/ui/state?since=tasks:ab12,...`` is the one endpoint the page polls. Each
section has a version computed from cheap in-memory facts (a fingerprint of the newest
tasks' observations, the balances, the rules) or one small store read; only sections
whose version moved are rendered and sent, so an unchanged poll answers a few hundred
bytes. Store reads run in a worker thread, so a poll never waits on the journal's batch
write on the event loop (``make bench`` measures what the open page costs the API).
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from html import escape
from importlib.resources import files
from typing import Any, Final

import orjson
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from mock_server.api.control import check_access
from mock_server.api.httpio import error_response, json_response
from mock_server.api.ui import render
from mock_server.domain.errors import ApiError
from mock_server.service import views
from mock_server.service.fake import Fake

BASE: Final = "/_mock/ui"
ASSETS: Final = {"app.js": "text/javascript", "app.css": "text/css"}
NO_STORE: Final = {"Cache-Control": "no-store"}
PLACEHOLDER: Final = re.compile(r"\{\{(\w+)\}\}")

# The README's scenario examples ("Scenarios"), offered in the form.
EXAMPLES: Final = {
    "Rate limited once (429, Retry-After: 5)": {
        "name": "rate limited once",
        "match": {"method": "POST", "path": "/v1/videos/generations"},
        "effect": {"http_status": 429, "headers": {"Retry-After": "5"}},
        "times": 1,
    },
    'Prompts with "forbidden" fail (content_policy_violation)': {
        "match": {"prompt__contains": "forbidden"},
        "effect": {"error_code": "content_policy_violation"},
    },
    "Polls answer 503 twice": {
        "match": {"path__startswith": "/v1/tasks/task-unified-"},
        "effect": {"http_status": 503},
        "times": 2,
    },
}

RENDERERS: Final[dict[str, Callable[[Fake], str]]] = {
    "tasks": render.tasks_section,
    "callbacks": render.callbacks_section,
    "ledger": render.ledger_section,
    "scenarios": render.scenarios_section,
}


def fake_of(request: Request) -> Fake:
    fake: Fake = request.app.state.fake
    return fake


def _filters(request: Request) -> tuple[str | None, str | None]:
    q = request.query_params
    return (q.get("key") or "").strip() or None, (q.get("task") or "").strip() or None


async def versions(fake: Fake, key: str | None, task: str | None) -> dict[str, str]:
    found = await asyncio.to_thread(views.store_versions, fake, key, task)
    return views.moving_versions(fake, found)


async def rendered(fake: Fake, name: str, key: str | None, task: str | None) -> str:
    if name == "journal":
        return await asyncio.to_thread(render.journal_section, fake, key, task)
    return RENDERERS[name](fake)


def _since(raw: str) -> dict[str, str]:
    pairs = (part.partition(":") for part in raw.split(",") if part)
    return {name: version for name, _, version in pairs}


async def state(request: Request) -> Response:
    fake = fake_of(request)
    try:
        check_access(request, fake.config.control_token)
    except ApiError as error:
        return error_response(error)
    fake.replica.sync()  # another worker's writes (--workers N): a memory compare when none
    key, task = _filters(request)
    since = _since(request.query_params.get("since", ""))
    now = await versions(fake, key, task)
    html = {n: await rendered(fake, n, key, task) for n, v in now.items() if since.get(n) != v}
    body = {
        "v": now,
        "clock": views.clock(fake),
        "clock_text": render.clock_text(fake.now()),
        "html": html,
        "unfinished": views.unfinished(fake) if "tasks" in html else None,
        "keys": views.keys(fake) if "ledger" in html else None,
    }
    return json_response(body, headers=NO_STORE)


def _options(values: list[tuple[str, str]], selected: str | None = None) -> str:
    return "".join(
        f'<option value="{escape(v)}"{" selected" if v == selected else ""}>{escape(label)}'
        "</option>"
        for v, label in values
    )


def _clock_note(clock: dict[str, Any]) -> str:
    if clock["mode"] == "virtual":
        return "Virtual clock: time moves only when you advance it."
    if clock["mode"] == "stepped":
        return f"Stepped clock: each API request moves time {clock['step']:g} s; advance too."
    return f"Real clock (×{clock['time_scale']:g}): time runs by itself and cannot be advanced."


async def page(request: Request) -> Response:
    fake = fake_of(request)
    token = fake.config.control_token
    if token is None:
        try:
            check_access(request, None)
        except ApiError as error:
            return error_response(error)
    key, task = _filters(request)
    clock = views.clock(fake)
    examples = list(EXAMPLES.items())
    values = {
        "base": BASE,
        "needs_token": "1" if token else "",
        "token_hidden": "" if token else "hidden",
        "filter_key": escape(key or ""),
        "filter_task": escape(task or ""),
        "clock_mode": escape(clock["mode"]),
        "clock_now": escape(render.clock_text(clock["now"])),
        "clock_unix": f"({clock['now']:.1f})",
        "clock_note": escape(_clock_note(clock)),
        "advance_disabled": "" if clock["can_advance"] else "disabled",
        "code_options": _options(
            [(code, f"{code} — {message}") for code, message in views.failure_codes()],
            "service_error",
        ),
        "example_options": _options([(str(n), name) for n, (name, _) in enumerate(examples)]),
        "example_first": escape(orjson.dumps(examples[0][1], option=orjson.OPT_INDENT_2).decode()),
        "examples_json": orjson.dumps([rule for _, rule in examples])
        .decode()
        .replace("<", "\\u003c"),
        "live": "Enter the control token to load the state." if token else "",
    }
    if token:  # nothing of the state before the page has the token
        since = ""
        values.update(
            {name: "" for name in ("tasks", "callbacks", "ledger", "scenarios", "journal")}
        )
        values.update(task_options="", key_options="")
    else:
        fake.replica.sync()
        now = await versions(fake, key, task)
        since = ",".join(f"{n}:{v}" for n, v in now.items())
        for name in now:
            values[name] = await rendered(fake, name, key, task)
        values["task_options"] = _options([(t, t) for t in views.unfinished(fake)])
        values["key_options"] = _options([(k, k) for k in views.keys(fake)])
    values["since"] = since
    html = (files("mock_server.api.ui") / "static" / "page.html").read_text("utf-8")
    # One pass, so a prompt that contains "{{journal}}" stays text.
    html = PLACEHOLDER.sub(lambda m: values[m.group(1)], html)
    return HTMLResponse(html, headers=NO_STORE)


async def asset(request: Request) -> Response:
    fake = fake_of(request)
    name = request.path_params["name"]
    if fake.config.control_token is None:
        try:
            check_access(request, None)
        except ApiError as error:
            return error_response(error)
    if name not in ASSETS:
        return error_response(ApiError(404, f"No such asset: {name}"))
    data = (files("mock_server.api.ui") / "static" / name).read_bytes()
    return Response(data, media_type=ASSETS[name], headers={"Cache-Control": "no-cache"})
