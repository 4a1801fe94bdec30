"""Client verification against the real endpoint: one run, one observed world.

``wanmock verify-client --cmd ... --real-base-url URL --real-api-key KEY --allow-spend C``
starts a recording reverse proxy on 127.0.0.1 (Starlette in, httpx out) that forwards the
client's requests to ``URL`` with the real key, journals each one as the fake would
(``wall_at``, latency, status, ``Retry-After``, bodies), and judges the run with the
properties that apply to one observed world. Money: it refuses to start when the
request's estimated cost (``contracts/pricing.py``, references at their caps) exceeds
the cap, and stops the run (and refuses further creates) once the ``credits_reserved``
seen in create answers reach it.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import httpx
import orjson
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from contracts import checks, facts, pricing
from contracts.checks.client import ClientRun
from contracts.client.runner import CommandClient, client_env, run_callable, run_command
from contracts.client.timing import monotonic, wall_time

PROXY_KEY = "wanmock-proxy-key"  # what the client is given; the proxy sends the real one
REAL_CHECKS = (
    "client_terminates",
    "client_answers",
    "client_sends_valid_requests",
    "client_creates_once",
    "client_reports_right_result",
    "client_reports_all_results",
    "client_surfaces_failures",
    "client_honours_retry_after",
    "client_does_not_poll_tightly",
)
DEFAULT_REQUEST = {
    "model": "wan2.6-reference-video",
    "prompt": "A person waves",
    "video_urls": ["https://example.com/wanmock/ref.mp4"],
    "duration": 2,
}


def estimated_cost(request: dict[str, Any]) -> Decimal:
    """The most a successful task of ``request`` can cost: every reference at its cap."""
    count = len(request.get("video_urls") or [None])
    cap = facts.INPUT_CAPS[min(max(count, 1), 3)]
    return pricing.expected_charge(request, [cap] * min(max(count, 1), 3))


@dataclass
class Recorder:
    """The proxy's state: the journal, the credits reserved, and whether to stop."""

    base_url: str
    api_key: str
    cap: Decimal
    journal: list[dict[str, Any]] = field(default_factory=list)
    reserved: Decimal = Decimal("0")
    stop: str | None = None
    http: httpx.AsyncClient | None = None

    async def forward(self, request: Request) -> Response:
        arrived, started = wall_time(), monotonic()
        body = await request.body()
        path = request.url.path
        entry: dict[str, Any] = {
            "seq": len(self.journal) + 1,
            "at": arrived,
            "wall_at": arrived,
            "method": request.method,
            "path": path,
            "notes": [],
            "request": _json(body),
            "retry_after": None,
            "task_id": None,
        }
        create = request.method == "POST" and path == "/v1/videos/generations"
        if create and self.reserved >= self.cap:
            self.stop = f"the credits reserved ({self.reserved}) reached --allow-spend {self.cap}"
            return self._done(
                entry,
                started,
                402,
                b'{"error": {"code": 402, "message": '
                b'"wanmock: the spend cap is reached", "type": '
                b'"insufficient_quota_error"}}',
                {},
            )
        headers = {"Authorization": f"Bearer {self.api_key}", "Content-Type": "application/json"}
        url = (
            self.base_url.rstrip("/")
            + path
            + (f"?{request.url.query}" if request.url.query else "")
        )
        if self.http is None:  # one pooled client: a fresh one per request costs a TLS
            self.http = httpx.AsyncClient(timeout=60)  # context, tens of ms on a busy machine
        try:
            answer = await self.http.request(request.method, url, content=body, headers=headers)
        except httpx.HTTPError as exc:
            entry["notes"].append(f"proxy: the real endpoint did not answer ({exc!r:.200})")
            return self._done(
                entry,
                started,
                502,
                b'{"error": {"code": 502, "message": '
                b'"upstream unreachable", "type": "upstream_error"}}',
                {},
            )
        extra = (
            {"retry-after": answer.headers["retry-after"]}
            if "retry-after" in answer.headers
            else {}
        )
        response = self._done(entry, started, answer.status_code, answer.content, extra)
        task = entry["response"]
        if isinstance(task, dict) and isinstance(task.get("id"), str):
            entry["task_id"] = task["id"]
            if create and answer.status_code == 200:
                usage: dict[str, Any] = task["usage"] if isinstance(task.get("usage"), dict) else {}
                self.reserved += pricing.as_credits(usage.get("credits_reserved")) or Decimal("0")
                if self.reserved >= self.cap:
                    self.stop = (
                        f"the credits reserved ({self.reserved}) reached --allow-spend {self.cap}"
                    )
        return response

    def _done(
        self, entry: dict[str, Any], started: float, status: int, body: bytes, extra: dict[str, str]
    ) -> Response:
        entry.update(status=status, response=_json(body), latency_ms=(monotonic() - started) * 1000)
        entry["retry_after"] = extra.get("retry-after")
        self.journal.append(entry)
        return _Timed(entry, started, body, status, headers=extra, media_type="application/json")


class _Timed(Response):
    """An answer that notes, once its last byte is handed to the connection, how long it
    took: a pause is measured from when the client could first read the answer, so a
    slow upstream or a busy proxy never hides a client that polls with no pause."""

    def __init__(self, entry: dict[str, Any], started: float, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.entry, self.started = entry, started

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        await super().__call__(scope, receive, send)
        self.entry["latency_ms"] = (monotonic() - self.started) * 1000


def _json(raw: bytes) -> Any:
    try:
        return orjson.loads(raw) if raw else None
    except orjson.JSONDecodeError:
        return raw[:4096].decode("utf-8", "replace")


class Proxy:
    """The recording proxy on a free loopback port, served from a thread."""

    def __init__(self, recorder: Recorder) -> None:
        @contextlib.asynccontextmanager
        async def lifespan(app: Starlette) -> AsyncIterator[None]:
            yield
            if recorder.http is not None:  # its pooled connections close on this loop
                await recorder.http.aclose()

        app = Starlette(
            routes=[
                Route(
                    "/{path:path}",
                    recorder.forward,
                    methods=["GET", "POST", "PUT", "DELETE", "HEAD"],
                )
            ],
            lifespan=lifespan,
        )
        self.server = uvicorn.Server(
            uvicorn.Config(app, host="127.0.0.1", port=0, log_level="error")
        )
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()
        while not self.server.started:
            threading.Event().wait(0.01)
        port = self.server.servers[0].sockets[0].getsockname()[1]
        self.base_url = f"http://127.0.0.1:{port}"

    def close(self) -> None:
        self.server.should_exit = True
        self.thread.join(10)


@dataclass
class RealResult:
    status: int
    run: ClientRun | None = None
    outcomes: list[checks.Outcome] = field(default_factory=list)
    reserved: Decimal = Decimal("0")


def verify_real(
    client: Any,
    base_url: str,
    api_key: str,
    allow_spend: Decimal,
    request: dict[str, Any] | None = None,
    timeout: float = 900.0,
    max_requests: int = 500,
    min_poll_interval: float = 0.01,
    tight_polls: int = 3,
) -> RealResult:
    """Run ``client`` once against ``base_url`` through the recording proxy and judge it."""
    request = dict(request or DEFAULT_REQUEST)
    cost = estimated_cost(request)
    print(f"Verifying client {client} against {base_url} (one run, at most {allow_spend} credits)")
    if cost > allow_spend:
        print(
            f"  refused: the request may cost {cost} credits, more than --allow-spend {allow_spend}"
        )
        return RealResult(2)
    recorder = Recorder(base_url, api_key, allow_spend)
    proxy = Proxy(recorder)
    print(f"  recording proxy at {proxy.base_url}; the request may cost up to {cost} credits")

    def runaway() -> str | None:
        if recorder.stop:
            return recorder.stop
        if len(recorder.journal) > max_requests:
            return f"{len(recorder.journal)} API requests (the limit is {max_requests})"
        return None

    try:
        if isinstance(client, CommandClient):
            env = client_env(proxy.base_url, PROXY_KEY, request)
            attempt = run_command(client, env, timeout, runaway)
        else:
            attempt = run_callable(client, (proxy.base_url, PROXY_KEY, request), timeout, runaway)
    finally:
        proxy.close()
    journal = list(recorder.journal)
    made = [
        e["task_id"]
        for e in journal
        if e["path"] == "/v1/videos/generations" and e["status"] == 200
    ]
    last: dict[str, Any] = {}
    for entry in journal:
        if entry.get("task_id") in made and isinstance(entry.get("response"), dict):
            last[entry["task_id"]] = entry["response"]
    problem = (
        "runaway" if attempt.problem == "runaway" and recorder.stop is None else attempt.problem
    )
    run = ClientRun(
        request=request,
        world={},
        outcome=attempt.outcome.to_json() if attempt.outcome else None,
        journal=journal,
        tasks=[last[t] for t in made if t in last],
        problem=None if recorder.stop else problem,
        detail=attempt.detail,
        timeout=timeout,
        min_poll_interval=min_poll_interval,
        tight_polls=tight_polls,
    )
    registry = [c for c in checks.collect(checks.client, checks.pacing) if c.name in REAL_CHECKS]
    outcomes = checks.run(run, registry)
    for outcome in outcomes:
        mark = {"passed": "✓", "failed": "✗", "skipped": "-"}[outcome.status]
        print(f"  {mark} {outcome.check.name}" + (f": {outcome.reason}" if outcome.reason else ""))
        if outcome.violation is not None:
            print("      " + str(outcome.violation).replace("\n", "\n      "))
    if recorder.stop:
        print(f"  stopped: {recorder.stop}")
    print(f"  {len(journal)} requests; {recorder.reserved} credits reserved")
    failed = any(o.status == "failed" for o in outcomes)
    return RealResult(1 if failed else 0, run, outcomes, recorder.reserved)


__all__ = ["DEFAULT_REQUEST", "Proxy", "RealResult", "Recorder", "estimated_cost", "verify_real"]
