"""The example client's own tests, as a project would keep them beside its client: they
run it against the ``wanmock serve`` at ``WANMOCK_BASE_URL`` (the README's "Use in CI"
recipe starts one), and skip when there is none."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

CLIENT = Path(__file__).parent.parent / "examples" / "polling_client.py"
BASE_URL = os.environ.get("WANMOCK_BASE_URL", "")
pytestmark = pytest.mark.skipif(not BASE_URL, reason="needs WANMOCK_BASE_URL (wanmock serve)")


def run_client(prompt: str) -> Any:
    request = {
        "model": "wan2.6-reference-video",
        "prompt": prompt,
        "video_urls": ["https://example.com/ref.mp4"],
    }
    env = {
        **os.environ,
        "WANMOCK_API_KEY": os.environ.get("WANMOCK_API_KEY", "sk-wanmock-test"),
        "WANMOCK_REQUEST": json.dumps(request),
        "POLL_SECONDS": "0.05",
    }
    done = subprocess.run(
        [sys.executable, str(CLIENT)], env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.splitlines()[-1])


def test_client_gets_the_video() -> None:
    outcome = run_client("A person dancing")
    assert outcome["status"] == "completed"
    assert outcome["video_urls"] and outcome["video_urls"][0].startswith(BASE_URL)


def test_client_reports_a_policy_failure() -> None:
    outcome = run_client("[wanmock:fail=content_policy_violation] A person dancing")
    assert outcome == {"status": "failed", "error_code": "content_policy_violation"}
