"""Section 7 of ``make bench``: creates and polls per second of two ``wanmock serve``
replicas on one PostgreSQL database (README "Running a shared instance") against one
``wanmock serve`` on a SQLite file, measured alternately in one run, as ratios.

The PostgreSQL is a throwaway cluster from the distribution's package (the tests' own,
``tests/postgres.py``); without the package the section is skipped with a warning. The
load is the same for both: a few threads, each with a keep-alive httpx connection and one
request in flight, spread over the replicas' ports (a load balancer's round robin).
"""

from __future__ import annotations

import argparse
import statistics
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import httpx

from bench import inproc, servers
from bench.servers import BenchError, Server

HEADERS = {"Authorization": f"Bearer {inproc.KEY}"}
# httpx threads in this process are the load: more than this only add their own overhead.
MAX_CONNECTIONS = 4


def _burst(urls: Sequence[str], kind: str, connections: int, seconds: float) -> float:
    """Requests per second of ``kind`` (create or poll) over ``seconds``: ``connections``
    threads, each with its own keep-alive connection to one of ``urls`` in turn."""
    paths = []
    for url in urls:  # the task each replica's polls ask for
        created = httpx.post(
            url + "/v1/videos/generations", json=inproc.BODY, headers=HEADERS, trust_env=False
        )
        if created.status_code != 200:
            raise BenchError(f"create answered {created.status_code}: {created.text}")
        paths.append(f"/v1/tasks/{created.json()['id']}")
    counts: list[tuple[int, int]] = []
    deadline = time.perf_counter() + seconds

    def worker(index: int) -> None:
        done = bad = 0
        url, path = urls[index % len(urls)], paths[index % len(urls)]
        with httpx.Client(base_url=url, trust_env=False, timeout=30) as client:
            while time.perf_counter() < deadline:
                if kind == "create":
                    answer = client.post(
                        "/v1/videos/generations", json=inproc.BODY, headers=HEADERS
                    )
                else:
                    answer = client.get(path, headers=HEADERS)
                done, bad = (done + 1, bad) if answer.status_code == 200 else (done, bad + 1)
        counts.append((done, bad))

    started = time.perf_counter()
    threads = [threading.Thread(target=worker, args=(i,)) for i in range(connections)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    if sum(bad for _, bad in counts):
        raise BenchError(f"{sum(bad for _, bad in counts)} {kind} answers were not 200")
    return sum(done for done, _ in counts) / elapsed


def measure(
    args: argparse.Namespace, workdir: Path, warn: Callable[[str], None]
) -> dict[str, Any] | None:
    from tests.postgres import Cluster, find_bin

    bin_dir = find_bin()
    if bin_dir is None:
        warn("replicas: PostgreSQL is not installed (make install-postgres); skipped")
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
        targets = {
            "sqlite_1": [started[0].base_url],
            "postgres_2": [s.base_url for s in started[1:]],
        }
        runs: dict[str, dict[str, list[float]]] = {t: {"create": [], "poll": []} for t in targets}
        rounds = max(2, args.rounds // 2)
        connections = min(args.connections, MAX_CONNECTIONS)
        for _ in range(rounds):
            for kind in ("create", "poll"):
                for target, urls in targets.items():
                    rate = _burst(urls, kind, connections, args.duration)
                    runs[target][kind].append(rate)
    finally:
        for server in started:
            server.stop()
        cluster.stop()
    medians = {t: {k: statistics.median(v) for k, v in kinds.items()} for t, kinds in runs.items()}
    return {
        "connections": connections,
        "rounds": rounds,
        "duration_s": args.duration,
        "sqlite_1": medians["sqlite_1"],
        "postgres_2": medians["postgres_2"],
        "ratio_create": medians["postgres_2"]["create"] / medians["sqlite_1"]["create"],
        "ratio_poll": medians["postgres_2"]["poll"] / medians["sqlite_1"]["poll"],
        "runs": runs,
    }


def report(result: dict[str, Any]) -> list[str]:
    one, two = result["sqlite_1"], result["postgres_2"]
    return [
        "",
        "7. Replicas: two wanmock serve on one PostgreSQL database against one on a SQLite",
        f"   file ({result['connections']} httpx threads, {result['rounds']} alternating "
        f"rounds of {result['duration_s']:g} s each)",
        "",
        f"   creates/s  SQLite x1 {one['create']:>8,.0f}   PostgreSQL x2 {two['create']:>8,.0f}"
        f"   ratio {result['ratio_create']:.2f}",
        f"   polls/s    SQLite x1 {one['poll']:>8,.0f}   PostgreSQL x2 {two['poll']:>8,.0f}"
        f"   ratio {result['ratio_poll']:.2f}",
    ]
