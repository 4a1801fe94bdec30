"""wrk (Debian's package, ``make bench`` installs it as root) as the load for throughput
figures: C, one epoll loop a thread, a few microseconds of CPU per request, so the
servers and not the generator set the figure. One wrk process per server, all started
together for the same window (a load balancer's round robin over replicas); their rates
add up.

Creates are POSTs with a JSON body, set through a small Lua script (wrk's own way).
"""

from __future__ import annotations

import json
import os
import re
import resource
import shutil
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

RATE_RE = re.compile(r"^Requests/sec:\s+([\d.]+)", re.M)
COUNT_RE = re.compile(r"^\s+(\d+) requests in", re.M)
NON_2XX_RE = re.compile(r"Non-2xx or 3xx responses:\s+(\d+)")
ERRORS_RE = re.compile(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)")
LATENCY_RE = re.compile(r"^\s+(50|75|90|99)%\s+([\d.]+)(us|ms|s)\s*$", re.M)
UNIT_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


@dataclass(frozen=True)
class Result:
    rps: float
    requests: int
    non_2xx: int
    errors: int  # socket errors: connect, read, write, timeout (10 s)
    latency_ms: dict[str, float]  # percentile -> ms, as wrk's --latency prints them
    # The share of the machine's CPUs every wrk of the run used together: on the
    # servers' machine, what the load itself took from them.
    generator_cpu: float = 0.0


def available() -> bool:
    return shutil.which("wrk") is not None


def script(workdir: Path, method: str, body: object | None, headers: dict[str, str]) -> Path:
    """A Lua script that sets the request wrk sends again and again."""
    lines = [f"wrk.method = {json.dumps(method)}"]
    if body is not None:
        lines.append(f"wrk.body = {json.dumps(json.dumps(body, separators=(',', ':')))}")
        headers = {**headers, "Content-Type": "application/json"}
    lines += [f"wrk.headers[{json.dumps(k)}] = {json.dumps(v)}" for k, v in headers.items()]
    path = workdir / f"wrk-{method.lower()}.lua"
    path.write_text("\n".join(lines) + "\n")
    return path


def parse(output: str) -> Result:
    rate, count = RATE_RE.search(output), COUNT_RE.search(output)
    if rate is None or count is None:
        raise ValueError(f"wrk printed no rate:\n{output}")
    non_2xx = NON_2XX_RE.search(output)
    errors = ERRORS_RE.search(output)
    latency = {p: float(v) * UNIT_MS[u] for p, v, u in LATENCY_RE.findall(output)}
    return Result(
        float(rate.group(1)),
        int(count.group(1)),
        int(non_2xx.group(1)) if non_2xx else 0,
        sum(int(n) for n in errors.groups()) if errors else 0,
        latency,
    )


def run(
    urls: Sequence[str], lua: Path, connections: int, seconds: float, threads: int = 1
) -> list[Result]:
    """One wrk per URL, all at once, ``connections`` split between them."""
    each = max(1, connections // len(urls))
    argv = ["wrk", f"-t{threads}", f"-c{max(each, threads)}", f"-d{seconds:g}s", "--timeout", "10s"]
    argv.append("--latency")
    before = _children_cpu()
    processes = [
        subprocess.Popen(
            [*argv, "-s", str(lua), url],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for url in urls
    ]
    outputs = [p.communicate(timeout=seconds + 30)[0] for p in processes]
    used = _children_cpu() - before
    share = used / (seconds * (os.cpu_count() or 1))
    return [replace(parse(output), generator_cpu=share) for output in outputs]


def _children_cpu() -> float:
    """CPU seconds of every child process reaped so far (the servers run on: only the
    wrk processes of a run are reaped during it)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def alternate(
    urls: dict[str, str], lua: Path, connections: int, seconds: float, rounds: int
) -> dict[str, list[float]]:
    """Requests per second of each named URL, one at a time, round after round."""
    rates: dict[str, list[float]] = {name: [] for name in urls}
    for _ in range(rounds):
        for name, url in urls.items():
            [found] = run([url], lua, connections, seconds)
            rates[name].append(found.rps if not (found.non_2xx or found.errors) else 0.0)
    return rates
