"""Section 7 of ``make bench``: two ``wanmock serve`` replicas on one PostgreSQL database
(docs/deployment.md "Running a shared instance") against one replica and against one
``wanmock serve`` on a SQLite file, measured alternately in one run.

Throughput is wrk's (``bench/wrk.py``), one wrk per server at once: a load generator in C
that stays far below the servers' CPU, so the figure is the servers'. Latency is
``bench/steady.py``'s: polls at a steady rate on one replica while the other takes
creates at a steady 200 a second, open loop, p99 against the same polls with no creates.

The PostgreSQL is a throwaway cluster from the distribution's package (the tests' own,
``tests/postgres.py``); without it or without wrk the section is skipped with a warning.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from bench import inproc, loadgen, servers, wrk
from bench.servers import BenchError, Server

HEADERS = {"Authorization": f"Bearer {inproc.KEY}"}
GOAL_CREATE_RATIO = 1.0  # two PostgreSQL replicas against one SQLite process
GOAL_POLL_RATIO = 1.6  # two replicas against one
GOAL_POLL_P99_MS = 5.0  # polls on one replica while the other takes creates
CREATE_RATE = 200.0  # creates a second on the other replica, steady
POLL_RATE = 200.0  # polls a second on the measured replica, steady
TARGETS = ("sqlite_1", "postgres_1", "postgres_2")
# Each run's figures: requests a second, wrk's share of the CPUs, servers' CPU a request.
FIGURES = ("", "_wrk_cpu", "_server_cpu_us")


def create_path(url: str) -> str:
    """Create one task on ``url``; the path its polls ask for."""
    created = httpx.post(
        url + "/v1/videos/generations", json=inproc.BODY, headers=HEADERS, trust_env=False
    )
    if created.status_code != 200:
        raise BenchError(f"create answered {created.status_code}: {created.text}")
    return f"/v1/tasks/{created.json()['id']}"


def throughput(
    targets: dict[str, list[Server]],
    postmaster: int,
    args: argparse.Namespace,
    workdir: Path,
    warn: Callable[[str], None],
) -> dict[str, dict[str, list[float]]]:
    """Creates and polls per second of each target, rounds alternating between them, with
    what wrk took of the CPUs and what each request cost the target's servers in CPU:
    the figure the load generator sharing their machine does not move."""
    create_lua = wrk.script(workdir, "POST", inproc.BODY, HEADERS)
    poll_lua = wrk.script(workdir, "GET", None, HEADERS)
    polls = {t: [s.base_url + create_path(s.base_url) for s in ss] for t, ss in targets.items()}
    creates = {t: [s.base_url + "/v1/videos/generations" for s in ss] for t, ss in targets.items()}
    kinds = [f"{kind}{figure}" for kind in ("create", "poll") for figure in FIGURES]
    runs: dict[str, dict[str, list[float]]] = {t: {k: [] for k in kinds} for t in targets}
    for _ in range(max(2, args.rounds // 2)):
        for kind, lua, urls_of in (("create", create_lua, creates), ("poll", poll_lua, polls)):
            for target, started in targets.items():
                database = postmaster if target.startswith("postgres") else None
                cpu_before = servers_cpu(started, database)
                found = wrk.run(urls_of[target], lua, args.connections, args.duration)
                cpu = servers_cpu(started, database) - cpu_before
                non_2xx, errors = sum(r.non_2xx for r in found), sum(r.errors for r in found)
                if non_2xx or errors:
                    warn(f"replicas: {target} {kind}: {non_2xx} non-2xx answers, {errors} errors")
                runs[target][kind].append(sum(r.rps for r in found))
                runs[target][f"{kind}_wrk_cpu"].append(found[0].generator_cpu)
                requests = sum(r.requests for r in found) or 1
                runs[target][f"{kind}_server_cpu_us"].append(cpu / requests * 1e6)
    return runs


def servers_cpu(started: list[Server], database: int | None) -> float:
    """CPU seconds of the servers so far, and of the database's processes if it has any
    (PostgreSQL's backends are its postmaster's children): SQLite's work is inside its
    server's own figure, so PostgreSQL's must count too."""
    pids = [server.pid for server in started] + ([database] if database else [])
    return sum(loadgen.process_cpu_seconds(pid) or 0.0 for pid in pids)


def latency(a: str, b: str, args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    """p99 of steady polls on ``a``: alone, then while ``b`` takes steady creates."""
    body = workdir / "create-body.json"
    body.write_text(json.dumps(inproc.BODY))
    poll = f"poll=GET,{POLL_RATE:g},{a}{create_path(a)}"
    create = f"create=POST,{CREATE_RATE:g},{b}/v1/videos/generations,{body}"
    seconds = str(max(3.0, 2 * args.duration))
    header = f"Authorization: Bearer {inproc.KEY}"
    found: dict[str, Any] = {}
    for name, streams in (("alone", [poll]), ("beside_creates", [poll, create])):
        argv = [sys.executable, "-m", "bench.steady", "-H", header, "--seconds", seconds]
        done = subprocess.run(
            [*argv, *streams], capture_output=True, text=True, timeout=float(seconds) + 60
        )
        if done.returncode != 0:
            raise BenchError(f"bench.steady failed:\n{done.stderr}")
        found[name] = json.loads(done.stdout.strip().splitlines()[-1])
        bad = sum(stream["bad"] for stream in found[name].values())
        if bad:
            raise BenchError(f"steady {name}: {bad} answers were not 200")
    return found


def measure(
    args: argparse.Namespace, workdir: Path, warn: Callable[[str], None]
) -> dict[str, Any] | None:
    from tests.postgres import Cluster, find_bin

    bin_dir = find_bin()
    if bin_dir is None:
        warn("replicas: PostgreSQL is not installed (make install-postgres); skipped")
        return None
    if not wrk.available():
        warn("replicas: wrk is not installed (apt-get install wrk; make bench as root does)")
        return None
    cluster = Cluster(bin_dir)
    started: list[Server] = []
    base = [*servers.wanmock_argv(), "serve", "--port", "0", "--clock", "virtual"]
    base += ["--api-key", f"{inproc.KEY}=1000000000"]
    try:
        url = cluster.new_database()
        started.append(
            servers.start("sqlite", [*base, "--db", str(workdir / "r.db")], workdir / "s.log")
        )
        for name in ("pg_a", "pg_b"):
            started.append(servers.start(name, [*base, "--db", url], workdir / f"{name}.log"))
        sqlite, pg_a, pg_b = started
        targets = {"sqlite_1": [sqlite], "postgres_1": [pg_a], "postgres_2": [pg_a, pg_b]}
        postmaster = int((cluster.data / "postmaster.pid").read_text().split()[0])
        runs = throughput(targets, postmaster, args, workdir, warn)
        steady = latency(pg_a.base_url, pg_b.base_url, args, workdir)
    finally:
        for server in started:
            server.stop()
        cluster.stop()
    medians = {t: {k: statistics.median(v) for k, v in kinds.items()} for t, kinds in runs.items()}
    result = {
        "connections": args.connections,
        "rounds": len(runs["sqlite_1"]["create"]),
        "duration_s": args.duration,
        **medians,
        "ratio_create": medians["postgres_2"]["create"] / medians["sqlite_1"]["create"],
        "ratio_poll": medians["postgres_2"]["poll"] / medians["postgres_1"]["poll"],
        "ratio_poll_vs_sqlite": medians["postgres_2"]["poll"] / medians["sqlite_1"]["poll"],
        # polls a second per CPU-second of the servers, x2 over x1: the replicas' scaling
        # with the load generator's share of the machine taken out
        "ratio_poll_per_cpu": medians["postgres_1"]["poll_server_cpu_us"]
        / medians["postgres_2"]["poll_server_cpu_us"],
        "poll_p99_ms": steady["beside_creates"]["poll"]["p99_ms"],
        "poll_p99_alone_ms": steady["alone"]["poll"]["p99_ms"],
        "steady": steady,
        "runs": runs,
    }
    for key, goal, better in (
        ("ratio_create", GOAL_CREATE_RATIO, "≥"),
        ("ratio_poll", GOAL_POLL_RATIO, "≥"),
        ("poll_p99_ms", GOAL_POLL_P99_MS, "≤"),
    ):
        met = result[key] >= goal if better == "≥" else result[key] <= goal
        result[f"{key}_goal_met"] = met
        if not met:
            warn(f"replicas: {key} = {result[key]:.2f}, goal {better} {goal:g}")
    return result


def report(result: dict[str, Any]) -> list[str]:
    one, pg1, two = result["sqlite_1"], result["postgres_1"], result["postgres_2"]

    def verdict(key: str) -> str:
        return "ok" if result[f"{key}_goal_met"] else "MISSED"

    return [
        "",
        "7. Replicas: two wanmock serve on one PostgreSQL database, one replica, and one",
        f"   wanmock serve on a SQLite file (wrk, {result['connections']} connections per "
        f"target, {result['rounds']} alternating rounds of {result['duration_s']:g} s)",
        "",
        f"   {'':<10}{'SQLite x1':>12}{'PostgreSQL x1':>15}{'PostgreSQL x2':>15}",
        f"   {'creates/s':<10}{one['create']:>12,.0f}{pg1['create']:>15,.0f}"
        f"{two['create']:>15,.0f}",
        f"   {'polls/s':<10}{one['poll']:>12,.0f}{pg1['poll']:>15,.0f}{two['poll']:>15,.0f}",
        "",
        f"   creates, PostgreSQL x2 / SQLite x1: {result['ratio_create']:.2f}"
        f"   (goal >= {GOAL_CREATE_RATIO:.1f}: {verdict('ratio_create')})",
        f"   polls, PostgreSQL x2 / x1: {result['ratio_poll']:.2f}"
        f"   (goal >= {GOAL_POLL_RATIO:.1f}: {verdict('ratio_poll')});"
        f" x2 / SQLite x1: {result['ratio_poll_vs_sqlite']:.2f}",
        f"   wrk's own share of the {os.cpu_count()} CPUs while polling: SQLite x1 "
        f"{one['poll_wrk_cpu']:.0%}, PostgreSQL x1 {pg1['poll_wrk_cpu']:.0%}, "
        f"x2 {two['poll_wrk_cpu']:.0%} (on the servers' machine, taken from them)",
        f"   CPU a poll (servers and database): SQLite x1 {one['poll_server_cpu_us']:.1f} µs, "
        f"PostgreSQL x1 {pg1['poll_server_cpu_us']:.1f} µs, x2 {two['poll_server_cpu_us']:.1f} µs; "
        f"a create: {one['create_server_cpu_us']:.0f}, {pg1['create_server_cpu_us']:.0f}, "
        f"{two['create_server_cpu_us']:.0f} µs",
        f"   polls per CPU-second of servers and database, PostgreSQL x2 / x1: "
        f"{result['ratio_poll_per_cpu']:.2f} (1.0 or more: a second replica costs nothing",
        "   more a poll, so with CPUs of its own and the load elsewhere it adds a replica's rate)",
        f"   poll p99 on one replica, the other taking {CREATE_RATE:g} creates/s: "
        f"{result['poll_p99_ms']:.1f} ms   (goal <= {GOAL_POLL_P99_MS:g} ms: "
        f"{verdict('poll_p99_ms')}; {POLL_RATE:g} polls/s, "
        f"{result['poll_p99_alone_ms']:.1f} ms with no creates)",
    ]
