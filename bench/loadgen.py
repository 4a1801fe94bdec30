"""A small HTTP/1.1 load generator: keep-alive connections, one request in flight each.

Built to stay out of the way of the server it measures: uvloop, asyncio protocols (no
streams), one pre-encoded request, and a response parser that only finds the end of the
headers, the status and ``Content-Length``. It runs in its own process (the bench starts
it with ``python -m bench.loadgen``). Given several targets it warms each, then measures
them in turn, in short bursts, round after round (so background noise on a shared machine
falls on all of them alike): each burst opens fresh connections, settles, counts completed
responses over a fixed window, and stops by itself. Progress goes to stderr, one JSON
object to stdout.

Only loopback targets are accepted: this is a bench, not a load-testing tool.

    python -m bench.loadgen bare=http://127.0.0.1:8081/v1/tasks/ID@PID \\
        wanmock=http://127.0.0.1:8080/v1/tasks/ID@PID -H 'Authorization: Bearer K'
"""

from __future__ import annotations

import argparse
import asyncio
import ipaddress
import json
import os
import sys
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import cast
from urllib.parse import urlsplit

HEADER_END = b"\r\n\r\n"
CONTENT_LENGTH = b"\r\ncontent-length:"


class Stats:
    """Shared counters; plain attributes, one event loop, no locks needed."""

    __slots__ = ("bad", "closed", "errors", "ok", "running")

    def __init__(self) -> None:
        self.ok = 0  # 200 answers
        self.bad = 0  # any other status
        self.errors = 0  # unparseable answers or connections lost while running
        self.closed = 0
        self.running = True


class Client(asyncio.Protocol):
    """One keep-alive connection sending ``request`` again as soon as an answer is in."""

    __slots__ = ("buffer", "done", "request", "stats", "transport")

    def __init__(self, request: bytes, stats: Stats, done: asyncio.Future[None]) -> None:
        self.request = request
        self.stats = stats
        self.done = done
        self.buffer = b""
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports quack like asyncio.Transport without subclassing it
        self.transport = cast(asyncio.Transport, transport)
        self.transport.write(self.request)

    def data_received(self, data: bytes) -> None:
        buffer = self.buffer + data if self.buffer else data
        stats = self.stats
        transport = self.transport
        assert transport is not None
        while True:
            end = buffer.find(HEADER_END)
            if end < 0:
                break
            head = buffer[:end].lower()
            at = head.find(CONTENT_LENGTH)
            if at < 0:  # chunked or close-delimited: not what the bench expects
                stats.errors += 1
                transport.close()
                return
            line_end = head.find(b"\r\n", at + 2)
            length = int(head[at + len(CONTENT_LENGTH) : line_end if line_end > 0 else end])
            total = end + 4 + length
            if len(buffer) < total:
                break
            if buffer[9:12] == b"200":
                stats.ok += 1
            else:
                stats.bad += 1
            buffer = buffer[total:]
            if stats.running:
                transport.write(self.request)
            else:
                transport.close()
                break
        self.buffer = buffer

    def connection_lost(self, exc: Exception | None) -> None:
        if self.stats.running:
            self.stats.errors += 1
        self.stats.closed += 1
        if not self.done.done():
            self.done.set_result(None)


@dataclass
class Target:
    name: str
    url: str
    pid: int | None = None  # the server process, to report its CPU use


@dataclass
class Burst:
    """One counted window against one target."""

    target: str
    round: int
    requests: int = 0
    rps: float = 0.0
    non_200: int = 0
    errors: int = 0
    client_cpu: float = 0.0  # fraction of one core the generator used in the window
    server_cpu: float | None = None  # same for the server process, when its pid is known
    server_cpu_us_per_request: float | None = None
    # CPU that neither the server nor the generator used (other processes, the kernel's
    # own threads), in cores: a sign of background noise when well above zero
    others_cpu: float | None = None
    notes: list[str] = field(default_factory=list)


def machine_busy_seconds() -> float | None:
    """CPU seconds all cores spent in user and system mode so far (Linux); None elsewhere.

    Interrupt time is left out: loopback traffic is partly accounted there, not to the
    processes exchanging it."""
    try:
        with open("/proc/stat", "rb") as stat:
            fields = stat.readline().split()
    except OSError:
        return None
    user, nice, system = int(fields[1]), int(fields[2]), int(fields[3])
    return (user + nice + system) / os.sysconf("SC_CLK_TCK")


def _stat(pid: int) -> list[bytes] | None:
    try:
        with open(f"/proc/{pid}/stat", "rb") as stat:
            return stat.read().rsplit(b")", 1)[1].split()
    except OSError:
        return None


def process_cpu_seconds(pid: int | None) -> float | None:
    """User + system CPU of another process and its children (a server's workers), from
    /proc (Linux); None elsewhere."""
    if pid is None:
        return None
    own = _stat(pid)
    if own is None:
        return None
    ticks = int(own[11]) + int(own[12])
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            fields = _stat(int(entry))
            if fields is not None and int(fields[1]) == pid:  # its parent is the server
                ticks += int(fields[11]) + int(fields[12])
    return ticks / os.sysconf("SC_CLK_TCK")


def build_request(url: str, headers: Sequence[str]) -> tuple[str, int, bytes]:
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.scheme != "http" or not host:
        raise ValueError(f"need an http:// URL, got {url!r}")
    if host != "localhost" and not ipaddress.ip_address(host).is_loopback:
        raise ValueError(f"only loopback targets are allowed, got {host!r}")
    port = parts.port or 80
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    lines = [f"GET {path} HTTP/1.1", f"Host: {parts.netloc}", *headers]
    return host, port, ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


async def burst(
    target: Target,
    headers: Sequence[str],
    connections: int,
    settle: float,
    duration: float,
    number: int,
) -> Burst:
    """Open ``connections`` keep-alive connections, run ``settle`` seconds uncounted, count
    ``duration`` seconds, then let every connection finish its request and close."""
    host, port, request = build_request(target.url, headers)
    loop = asyncio.get_running_loop()
    stats = Stats()
    result = Burst(target.name, number)
    dones: list[asyncio.Future[None]] = []
    clients: list[Client] = []
    for _ in range(connections):
        done: asyncio.Future[None] = loop.create_future()
        client = Client(request, stats, done)
        await loop.create_connection(lambda c=client: c, host, port)  # type: ignore[misc]
        dones.append(done)
        clients.append(client)

    await asyncio.sleep(settle)
    count0, t0, cpu0 = stats.ok + stats.bad, time.perf_counter(), time.process_time()
    server0, busy0 = process_cpu_seconds(target.pid), machine_busy_seconds()
    await asyncio.sleep(duration)
    count1, t1, cpu1 = stats.ok + stats.bad, time.perf_counter(), time.process_time()
    server1, busy1 = process_cpu_seconds(target.pid), machine_busy_seconds()
    stats.running = False

    # Each connection closes after its in-flight answer; bounded wait, then force it.
    _, pending = await asyncio.wait(dones, timeout=5.0)
    if pending:
        result.notes.append(f"{len(pending)} connections did not finish; closed them")
        for client in clients:
            if client.transport is not None:
                client.transport.abort()

    window = t1 - t0
    result.requests = count1 - count0
    result.rps = result.requests / window
    result.non_200 = stats.bad
    result.errors = stats.errors
    result.client_cpu = (cpu1 - cpu0) / window
    if server0 is not None and server1 is not None:
        result.server_cpu = (server1 - server0) / window
        if result.requests:
            result.server_cpu_us_per_request = (server1 - server0) / result.requests * 1e6
        if busy0 is not None and busy1 is not None:
            others = (busy1 - busy0) - (server1 - server0) - (cpu1 - cpu0)
            result.others_cpu = max(0.0, others / window)
    return result


async def run(
    targets: Sequence[Target],
    headers: Sequence[str],
    connections: int,
    warmup: float,
    settle: float,
    duration: float,
    rounds: int,
) -> dict[str, list[Burst]]:
    """Warm each target, then ``rounds`` rounds of one burst per target, interleaved, so a
    change in the machine's background load touches every target alike."""
    for target in targets:
        progress(f"warming {target.name} for {warmup:g} s")
        await burst(target, headers, connections, 0.0, warmup, 0)
    results: dict[str, list[Burst]] = {t.name: [] for t in targets}
    for number in range(1, rounds + 1):
        for target in targets:
            result = await burst(target, headers, connections, settle, duration, number)
            results[target.name].append(result)
            progress(
                f"round {number}/{rounds} {target.name:<8}{result.rps:>9,.0f} rps   "
                f"CPU: server {percent(result.server_cpu)}, "
                f"load generator {percent(result.client_cpu)}, others {percent(result.others_cpu)}"
            )
    return results


def percent(fraction: float | None) -> str:
    return "n/a" if fraction is None else f"{fraction:.0%}"


def progress(message: str) -> None:
    print(f"bench: {message}", file=sys.stderr, flush=True)


def parse_target(text: str) -> Target:
    """``NAME=URL`` or ``NAME=URL@PID``."""
    name, _, rest = text.partition("=")
    url, _, pid = rest.partition("@")
    if not name or not url:
        raise argparse.ArgumentTypeError(f"expected NAME=URL[@PID], got {text!r}")
    return Target(name, url, int(pid) if pid else None)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.loadgen",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "targets",
        nargs="+",
        type=parse_target,
        metavar="NAME=URL[@PID]",
        help="loopback URLs to measure in turn; PID: report that server's CPU use",
    )
    parser.add_argument("-H", "--header", action="append", default=[], help="'Name: value'")
    parser.add_argument("-c", "--connections", type=int, default=48)
    parser.add_argument("--warmup", type=float, default=1.0, help="seconds per target, first")
    parser.add_argument("--settle", type=float, default=0.3, help="seconds before each count")
    parser.add_argument("-d", "--duration", type=float, default=2.0, help="seconds counted")
    parser.add_argument("-r", "--rounds", type=int, default=5, help="bursts per target")
    args = parser.parse_args(argv)
    if not (
        1 <= args.connections <= 1024
        and 0 <= args.warmup <= 60
        and 0 <= args.settle <= 60
        and 0 < args.duration <= 60
        and 1 <= args.rounds <= 100
    ):
        parser.error(
            "connections 1..1024, warmup and settle 0..60, duration (0, 60], rounds 1..100"
        )
    try:
        for target in args.targets:
            build_request(target.url, args.header)
    except ValueError as exc:
        parser.error(str(exc))

    coro = run(
        args.targets,
        args.header,
        args.connections,
        args.warmup,
        args.settle,
        args.duration,
        args.rounds,
    )
    notes: list[str] = []
    try:
        import uvloop
    except ImportError:  # still works, just slower; the bench reports the client's CPU
        results = asyncio.run(coro)
        notes.append("uvloop not installed: plain asyncio loop")
    else:
        results = uvloop.run(coro)
    output = {
        "connections": args.connections,
        "warmup_s": args.warmup,
        "settle_s": args.settle,
        "duration_s": args.duration,
        "rounds": args.rounds,
        "notes": notes,
        "targets": {name: [asdict(b) for b in bursts] for name, bursts in results.items()},
    }
    json.dump(output, sys.stdout)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
