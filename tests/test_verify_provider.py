"""``wanmock verify-provider``: passes against the fake, catches providers that break a rule."""

from __future__ import annotations

import asyncio
import io
import subprocess
import sys
from collections import Counter
from collections.abc import Callable
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from rich.console import Console
from starlette.types import ASGIApp

from contracts.provider import verify_async
from contracts.provider.drift import drift
from contracts.provider.http import Options
from contracts.provider.recordings import load
from contracts.provider.report import Report
from mock_server.service.fake import Fake
from mock_server.testing.embedded import free_port
from tests.providers import (
    Answer,
    Rewrite,
    no_usage,
    no_usage_on_polls,
    reserves_too_little,
    serving,
)
from tests.server import running

KEY = "sk-wanmock-test"
Wrap = Callable[[ASGIApp, Fake], ASGIApp]


def verify(base_url: str, spend: str = "0", **options: Any) -> tuple[int, str]:
    out = io.StringIO()
    console = Console(file=out, width=200, highlight=False, soft_wrap=True)
    settings = Options(
        base_url, KEY, Decimal(spend), **{"poll_interval": 0.01, "timeout": 30, **options}
    )
    code = asyncio.run(verify_async(settings, Report(console)))
    return code, out.getvalue()


def test_verify_provider_passes_against_wanmock_serve(tmp_path: Path) -> None:
    args = ("--clock", "stepped", "--profile", "fast", "--media-dir", str(tmp_path))
    with running(*args) as server:
        result = subprocess.run(
            [
                sys.executable,
                "-m",
                "mock_server",
                "verify-provider",
                "--base-url",
                server.base_url,
                "--api-key",
                KEY,
                "--allow-spend",
                "100",
                "--poll-interval",
                "0.01",
                "--timeout",
                "60",
            ],
            capture_output=True,
            text=True,
            timeout=120,
        )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "keeps the contract" in result.stdout
    assert "billing other successes: billing matches rules" in result.stdout


def test_verify_provider_free_checks_spend_nothing() -> None:
    with serving() as base_url:
        code, out = verify(base_url)
        credits = httpx.get(f"{base_url}/v1/credits", headers={"Authorization": f"Bearer {KEY}"})
        tasks = httpx.get(f"{base_url}/_mock/tasks?key={KEY}").json()["tasks"]
    assert code == 0, out
    assert credits.json()["data"]["token"]["remaining_credits"] == 1000
    assert tasks == []
    assert "free checks only" in out


def test_verify_provider_unreachable_provider_exits_2() -> None:
    code, out = verify(f"http://127.0.0.1:{free_port()}")
    assert code == 2 and "Cannot talk to the provider" in out


def test_verify_provider_records_answers_without_secrets(tmp_path: Path) -> None:
    with serving() as base_url:
        code, out = verify(base_url, "10", record=tmp_path)
    assert code == 0, out
    texts = [p.read_text() for p in tmp_path.glob("*.json")]
    operations = Counter(p.name.split("-", 1)[1].rsplit("-", 1)[0] for p in tmp_path.glob("*"))
    assert operations["create-invalid"] > 40 and operations["query"] > 0
    assert not any(KEY in text for text in texts)
    assert drift(load(tmp_path)) == []


# -- providers that break one documented rule each ------------------------------------


def rewriting(
    request: Callable[[str, str, Any], Any] | None = None,
    answer: Callable[[Answer], None] | None = None,
) -> Wrap:
    return lambda app, fake: Rewrite(app, request, answer)


def accept_duration_11(method: str, path: str, body: Any) -> Any:
    if path == "/v1/videos/generations" and isinstance(body, dict) and body.get("duration") == 11:
        return {**body, "duration": 10}
    return body


def plain_text_404(answer: Answer) -> None:
    if answer.path.startswith("/v1/tasks/") and answer.status == 404:
        answer.content_type, answer.body = "text/plain", b"Not Found"


def drop_param(answer: Answer) -> None:
    if answer.status == 400 and isinstance(answer.body, dict):
        answer.body["error"].pop("param", None)


def wrong_402_type(answer: Answer) -> None:
    if answer.status == 402:
        answer.body["error"]["type"] = "payment_required"


def day_long_uploads(answer: Answer) -> None:
    data = answer.body.get("data") if isinstance(answer.body, dict) else None
    if answer.path.startswith("/api/v1/files/upload") and isinstance(data, dict):
        uploaded = datetime.fromisoformat(data["upload_time"])
        data["expires_at"] = (uploaded + timedelta(hours=24)).isoformat()


def status_backwards() -> Callable[[Answer], None]:
    seen: Counter[str] = Counter()

    def rewrite(answer: Answer) -> None:
        body = answer.body
        if not (answer.path.startswith("/v1/tasks/") and isinstance(body, dict)):
            return
        if body.get("status") == "completed":
            seen[body["id"]] += 1
            if seen[body["id"]] > 1:  # the second poll after the end: processing again
                body.update(status="processing", progress=60)
                body.pop("results", None)
                body["task_info"]["can_cancel"] = True

    return rewrite


def charge_failures(app: ASGIApp, fake: Fake) -> ASGIApp:
    """Charges a failed task its reservation, as if it had succeeded."""
    fake.accounts.charge_of = lambda task: task.reserved  # type: ignore[method-assign]
    return app


BROKEN: dict[str, tuple[Wrap, str, list[str]]] = {
    "accepts duration 11": (
        rewriting(request=accept_duration_11),
        "0",
        ["✗ validation duration: above range -> 400", "[status_as_documented] HTTP 200"],
    ),
    "plain-text 404": (
        rewriting(answer=plain_text_404),
        "0",
        ["✗ query an unknown task -> 404", "[error_is_json] the error body is not JSON"],
    ),
    "drops param": (
        rewriting(answer=drop_param),
        "0",
        ["✗ validation prompt: too long", "[param_names_field] error.param is None"],
    ),
    "wrong 402 type": (
        rewriting(answer=wrong_402_type),
        "0",
        [
            "✗ quota: a key without credits -> 402",
            "[error_type_matches_status]",
            "'payment_required'; HTTP 402 is 'insufficient_quota_error'",
        ],
    ),
    "uploads expire after a day": (
        rewriting(answer=day_long_uploads),
        "0",
        ["[upload_expires_after_72h] the file lives 1 day, 0:00:00, not 72 hours"],
    ),
    "status goes backwards": (
        lambda app, fake: Rewrite(app, None, status_backwards()),
        "100",
        [
            "✗ generation one reference, 10 s silent: lifecycle",
            "[status_monotone] status went from 'completed' to 'processing'",
        ],
    ),
    "leaves usage out": (
        rewriting(answer=no_usage),
        "10",
        [
            "✗ generation failure probe: lifecycle",
            "[usage_reported] the create answer has no documented usage",
            "source: contracts/SOURCES.md [REF] Response: Usage and billing information",
        ],
    ),
    "leaves usage out of polls": (
        rewriting(answer=no_usage_on_polls),
        "10",
        [
            "✗ generation failure probe: lifecycle",
            "[usage_reported] poll 1 has no documented usage",
        ],
    ),
    "reserves less than it charges": (
        rewriting(answer=reserves_too_little),
        "100",
        ["[charge_within_reservation] charged more than reserved"],
    ),
    "charges failed tasks": (
        charge_failures,
        "10",
        [
            "✗ billing failure probe: charge only on success",
            "[charge_only_on_success] a failed task was charged",
        ],
    ),
}


@pytest.mark.parametrize("name", list(BROKEN))
def test_verify_provider_catches_a_broken_provider(name: str) -> None:
    wrap, spend, expected = BROKEN[name]
    with serving(wrap) as base_url:
        code, out = verify(base_url, spend)
    assert code == 1, out
    for text in expected:
        assert text in out, out
    assert "Contract violations found" in out


def test_verify_provider_readme_commands_work_as_written(tmp_path: Path) -> None:
    from tests.test_readme import blocks, commands, section

    text = section("Verify a provider")
    serve, verify_block = blocks(text, "sh")[:2]
    flags = serve.split("wanmock serve", 1)[1].split()
    assert flags[:4] == ["--clock", "stepped", "--profile", "fast"]
    with running(*flags[:4], "--media-dir", str(tmp_path)) as server:
        for command in commands(verify_block):
            line = command.replace("http://127.0.0.1:8080", server.base_url)
            line = line.replace("wanmock ", f"{sys.executable} -m mock_server ", 1)
            result = subprocess.run(
                ["bash", "-c", line], capture_output=True, text=True, timeout=120
            )
            assert result.returncode == 0, result.stdout + result.stderr
            assert "keeps the contract" in result.stdout


def never_ends(answer: Answer) -> None:
    body = answer.body
    if answer.path.startswith("/v1/tasks/") and isinstance(body, dict) and "status" in body:
        body.update(status="processing", progress=50)
        body.pop("results", None)
        body.pop("error", None)
        body["task_info"]["can_cancel"] = True


def test_verify_provider_a_task_that_never_ends_fails_at_the_timeout() -> None:
    with serving(rewriting(answer=never_ends)) as base_url:
        code, out = verify(base_url, "10", timeout=1.0, poll_interval=0.05)
    assert code == 1, out
    assert "[task_ends] the task was still processing when --timeout ran out" in out


def test_verify_provider_resends_a_get_the_server_dropped_once() -> None:
    from contracts.provider.http import Provider

    tries: list[str] = []

    def answer(request: httpx.Request) -> httpx.Response:
        tries.append(request.method)
        if len(tries) == 1:
            raise httpx.RemoteProtocolError("Server disconnected without sending a response.")
        return httpx.Response(200, json={"ok": True})

    async def run() -> int:
        provider = Provider(Options("http://provider.test", KEY))
        provider.client = httpx.AsyncClient(transport=httpx.MockTransport(answer))
        try:
            got = await provider.call("query", "GET", "http://provider.test/v1/tasks/x")
            with pytest.raises(httpx.RemoteProtocolError):
                tries.clear()
                await provider.call("create", "POST", "http://provider.test/v1/videos/generations")
            return got.status
        finally:
            await provider.aclose()

    assert asyncio.run(run()) == 200
    assert tries == ["POST"]  # a create is never sent twice
