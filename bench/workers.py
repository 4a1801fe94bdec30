"""Section 6 of ``make bench``: polls per second of ``wanmock serve --workers 2`` against
``--workers 1``, both on a SQLite file (workers share one), measured alternately in one
run. Goal (docs/ARCHITECTURE.md "Speed"): two workers serve at least 1.3 times the polls
of one on 2 cores, the load generator included."""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from bench import servers
from bench.servers import Server

GOAL_WORKERS_RATIO = 1.3
Load = Callable[[Sequence[Server], Sequence[str], argparse.Namespace], dict[str, Any]]
Summarize = Callable[[list[dict[str, Any]]], dict[str, Any]]
Prepare = Callable[[Server], tuple[str, Any]]


def measure(
    args: argparse.Namespace,
    workdir: Path,
    prepare: Prepare,
    load: Load,
    summarize: Summarize,
    warn: Callable[[str], None],
) -> dict[str, Any]:
    started: list[Server] = []
    try:
        for count in (1, 2):
            argv = [*servers.wanmock_argv(), "serve", "--port", "0", "--clock", "virtual"]
            argv += ["--db", str(workdir / f"workers-{count}.db"), "--workers", str(count)]
            started.append(servers.start(f"workers_{count}", argv, workdir / f"w{count}.log"))
        paths = [prepare(server)[0] for server in started]
        loaded = load(started, paths, args)
    finally:
        for server in started:
            server.stop()
    runs: dict[str, list[dict[str, Any]]] = loaded["targets"]
    one, two = summarize(runs["workers_1"]), summarize(runs["workers_2"])
    ratio = two["median_rps"] / one["median_rps"]
    if ratio < GOAL_WORKERS_RATIO:
        warn(f"workers: 2 workers / 1 = {ratio:.2f}, goal >= {GOAL_WORKERS_RATIO}")
    return {
        "one_worker": one,
        "two_workers": two,
        "ratio_rps": ratio,
        "goal_ratio": GOAL_WORKERS_RATIO,
        "goal_met": ratio >= GOAL_WORKERS_RATIO,
    }


def report(result: dict[str, Any]) -> list[str]:
    one, two = result["one_worker"], result["two_workers"]
    return [
        "",
        "6. Workers: polls per second of wanmock serve --workers 2 against --workers 1,",
        "   both on a SQLite file (alternating rounds)",
        "",
        f"   1 worker {one['median_rps']:>9,.0f} rps   2 workers {two['median_rps']:>9,.0f} rps"
        f"   2 / 1: {result['ratio_rps']:.2f}"
        f"   (goal >= {result['goal_ratio']:.1f}: {'ok' if result['goal_met'] else 'MISSED'})",
    ]
