"""The calibration corpus of ``wanmock verify-client``: correct clients written in
different styles, each of which must pass under every seed, and broken clients with one
bug each, each of which must be caught with its property named.

The suite runs each once with few examples and a fixed seed
(``tests/test_client_verification.py``); ``make calibrate`` (``bench/calibrate.py``) runs
every correct client under 10 seeds and every broken one under 3, and measures the
false-verdict and miss rates.
"""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from contracts.client import CommandClient
from tests.clients import broken

HERE = Path(__file__).parent
EXAMPLE = HERE.parent.parent / "examples" / "polling_client.py"


def _python(script: str, env: str = "") -> CommandClient:
    return CommandClient(f"{env}{sys.executable} {HERE / 'correct' / script}".strip())


def _node(script: str) -> CommandClient:
    return CommandClient(f"node {HERE / 'correct' / script}")


@dataclass(frozen=True)
class Member:
    """One client of the corpus; ``breaks`` is the property a broken one breaks."""

    name: str
    client: Callable[..., Any] | CommandClient
    breaks: str | None = None
    options: Mapping[str, Any] = field(default_factory=dict)  # what its bug needs to show
    needs: tuple[str, ...] = ()  # commands on PATH or environment variables

    def __str__(self) -> str:
        return self.name

    def missing(self) -> list[str]:
        """What this machine lacks to run it (node; EvoLink's package)."""
        return [need for need in self.needs if not _have(need)]


def _have(need: str) -> bool:
    """A program on PATH, or a variable naming a directory that exists."""
    if need.isupper():
        return os.path.isdir(os.environ.get(need) or "/nonexistent")
    return shutil.which(need) is not None


CORRECT = (
    Member("stdlib urllib, reports failed on an unknown create", _python("stdlib_urllib.py")),
    Member("httpx sync, pooled keep-alive, resends once", _python("httpx_pooled.py")),
    Member("httpx async", _python("httpx_async.py")),
    Member("http.client, resends every unknown create", _python("resends_unknown.py")),
    Member("node fetch", _node("node_fetch.mjs"), needs=("node",)),
    Member(
        "examples/polling_client.py", CommandClient(f"POLL_SECONDS=0.1 {sys.executable} {EXAMPLE}")
    ),
    Member("reference callable", broken.reference_client),
    Member(
        "EvoLink's npm client 1.2.1, unchanged",
        _node("evolink_npm.mjs"),
        needs=("node", "EVOLINK_MEDIA_DIR"),
    ),
)

BROKEN = (
    Member("gives up on 429", broken.gives_up_on_429, "client_retries_transient_errors"),
    Member("resubmits on 503", broken.resubmits_on_503, "client_creates_once"),
    Member("failed as completed", broken.failed_as_completed, "client_surfaces_failures"),
    Member("crashes on unknown fields", broken.strict_parser, "client_tolerates_extra_fields"),
    Member("never stops", broken.never_stops, "client_terminates"),
    Member(
        "ignores Retry-After",
        broken.ignores_retry_after,
        "client_honours_retry_after",
        {"max_retry_after": 1},
    ),
    Member("polls with no pause", broken.polls_tightly, "client_does_not_poll_tightly"),
    Member("reports one result", broken.reports_first_result, "client_reports_all_results"),
    Member("a stall at 0 is death", broken.gives_up_on_a_stall, "client_reports_right_result"),
    Member("waits on a failed task", broken.waits_on_a_failed_task, "client_terminates"),
    Member(
        "resubmits after a broken poll",
        broken.resubmits_after_a_broken_poll,
        "client_creates_once",
    ),
    Member(
        "gives up on a broken connection",
        broken.gives_up_on_a_broken_connection,
        "client_retries_transient_errors",
    ),
    Member(
        "gives up on a poll after two failures",
        broken.gives_up_on_a_poll_after_two_failures,
        "client_retries_transient_errors",
    ),
    Member(
        "completed without a task",
        broken.completes_without_a_task,
        "client_reports_right_result",
    ),
    Member(
        "no retry at all (urllib)",
        CommandClient(f"RETRIES=0 {sys.executable} {EXAMPLE}"),
        "client_retries_transient_errors",
    ),
)
