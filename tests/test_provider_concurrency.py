"""Several ``wanmock verify-provider`` runs at once with one key: none disturbs another."""

from __future__ import annotations

import asyncio
import io
import re
import subprocess
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
from rich.console import Console

from contracts.provider import verify_async
from contracts.provider.http import Options
from contracts.provider.report import Report
from mock_server.service.fake import Fake
from tests import broken
from tests.providers import Rewrite, no_usage, reserves_too_little, serving_many
from tests.server import running
from tests.test_verify_provider import (
    accept_duration_11,
    day_long_uploads,
    plain_text_404,
    rewriting,
    status_backwards,
)

KEY = "sk-wanmock-test"
RUNS = 3
AT_ONCE = 5  # verifiers sharing this test's one event loop at a time


def test_verify_provider_concurrent_runs_with_one_key_all_pass(tmp_path: Path) -> None:
    args = ("--clock", "stepped", "--profile", "fast", "--media-dir", str(tmp_path))
    command = [sys.executable, "-m", "mock_server", "verify-provider", "--api-key", KEY]
    flags = ["--allow-spend", "100", "--poll-interval", "0.01", "--timeout", "60"]
    with running(*args) as server:
        runs = [
            subprocess.Popen(
                [*command, "--base-url", server.base_url, *flags],
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
            )
            for _ in range(RUNS)
        ]
        outputs = [run.communicate(timeout=120)[0] for run in runs]
        left = httpx.get(
            f"{server.base_url}/api/v1/files/list",
            headers={"Authorization": f"Bearer {KEY}"},
        ).json()["data"]["files"]
    for run, out in zip(runs, outputs, strict=True):
        assert run.returncode == 0, out
        assert "billing other successes: billing matches rules" in out
    names = {re.search(r"named (wanmock-verify-\w+)-\*", out).group(1) for out in outputs}  # type: ignore[union-attr]
    assert len(names) == RUNS  # every run its own file names
    assert left == []  # each deleted what it uploaded, nothing else was left


BROKEN = {  # one per check family: validation, answers, files, tasks, billing
    "accepts duration 11": (
        rewriting(request=accept_duration_11),
        "0",
        "[status_as_documented] HTTP 200",
    ),
    "plain-text 404": (rewriting(answer=plain_text_404), "0", "[error_is_json]"),
    "uploads expire after a day": (
        rewriting(answer=day_long_uploads),
        "0",
        "[upload_expires_after_72h]",
    ),
    "status goes backwards": (
        lambda app, fake: Rewrite(app, None, status_backwards()),
        "100",
        "[status_monotone] status went from 'completed' to 'processing'",
    ),
    "leaves usage out": (rewriting(answer=no_usage), "10", "[usage_reported]"),
    "reserves less than it charges": (
        rewriting(answer=reserves_too_little),
        "100",
        "[charge_within_reservation] charged more than reserved",
    ),
}


async def verify_all(urls: list[str], spends: list[str]) -> list[tuple[int, str]]:
    async def one(url: str, spend: str) -> tuple[int, str]:
        out = io.StringIO()
        console = Console(file=out, width=200, highlight=False, soft_wrap=True)
        options = Options(url, KEY, Decimal(spend), poll_interval=0.01, timeout=60)
        return await verify_async(options, Report(console)), out.getvalue()

    return await asyncio.gather(*(one(u, s) for u, s in zip(urls, spends, strict=True)))


def every_broken() -> dict[str, tuple[Any, str, str]]:
    more = {
        name: (rewriting(answer=make()), spend, rule)
        for name, (make, spend, rule) in broken.BROKEN.items()
    }
    return {**BROKEN, **more}


def test_verify_provider_broken_providers_sharing_one_fake_are_each_caught() -> None:
    providers = every_broken()
    wraps = [lambda app, fake: app] + [wrap for wrap, _, _ in providers.values()]
    spends = ["100"] + [spend for _, spend, _ in providers.values()]
    results = []
    with serving_many(wraps) as urls:
        for start in range(0, len(urls), AT_ONCE):
            chosen = slice(start, start + AT_ONCE)
            results += asyncio.run(verify_all(urls[chosen], spends[chosen]))
    (healthy, healthy_out), *caught = results
    assert healthy == 0, healthy_out
    for (name, (_, _, rule)), (code, out) in zip(providers.items(), caught, strict=True):
        assert code == 1, f"{name}: {out}"
        assert rule in out, f"{name}: {out}"


def delete_reference_on_create(app: Any, fake: Fake) -> Any:
    """Someone else sharing the key deletes the run's reference as its first task starts."""

    def rewrite(method: str, path: str, body: Any) -> Any:
        urls = body.get("video_urls", []) if isinstance(body, dict) else []
        for url in urls:
            found = re.search(r"/files/([^/]+)/wanmock-verify-", str(url))
            if found and fake.media.uploads.get(found.group(1)) is not None:
                fake.media.uploads.delete(KEY, found.group(1))
        return body

    return Rewrite(app, rewrite)


def test_verify_provider_reports_a_vanished_reference_as_that() -> None:
    with serving_many([delete_reference_on_create]) as [url]:
        [(code, out)] = asyncio.run(verify_all([url], ["100"]))
    assert code == 1, out
    assert "✗ generation one reference, 10 s silent: its reference file stayed uploaded" in out
    assert "[upload_kept] a file this run uploaded vanished" in out
    assert "✓ generation one reference, 10 s silent: lifecycle" in out
    assert "stayed until this run deleted it" in out  # at the clean-up, as that too
    assert "✗ delete" not in out and "[file_outcome_as_expected]" not in out


class NoControl:
    """A provider without wanmock's control API, as the real one: charges only show in
    the key's balance."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope["path"].startswith("/_mock"):
            await send({"type": "http.response.start", "status": 404, "headers": []})
            await send({"type": "http.response.body", "body": b""})
            return
        await self.app(scope, receive, send)


def test_verify_provider_runs_sharing_a_balance_do_not_judge_it() -> None:
    wraps = [lambda app, fake: NoControl(app)] * 2
    with serving_many(wraps) as urls:
        results = asyncio.run(verify_all(urls, ["100", "100"]))
    for code, out in results:
        assert code == 0, out
        assert "other verifier runs share this key" in out
