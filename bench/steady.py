"""Requests at a steady rate, and how long each took: the latency side of the replica
figures (throughput is wrk's, ``bench/wrk.py``).

Open loop: request ``i`` of a stream is due at ``start + i / rate`` whether or not the
server kept up, and its latency counts from then (a late server is not forgiven the
time its queue made a request wait). Each stream has a few keep-alive connections; a
request waits for a free one. Several streams run at once on one event loop, e.g. polls
on one replica while creates go to another. Runs in its own process and prints one JSON
object:

    python -m bench.steady -H 'Authorization: Bearer K' --seconds 5 \\
        poll=GET,200,http://127.0.0.1:8081/v1/tasks/ID \\
        create=POST,200,http://127.0.0.1:8082/v1/videos/generations,BODY_FILE
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

CONNECTIONS = 8  # per stream: more than a steady few hundred a second ever needs at once


@dataclass
class Stream:
    name: str
    rate: float
    host: str
    port: int
    request: bytes
    latencies: list[float] = field(default_factory=list)
    bad: int = 0


def parse_stream(text: str, headers: Sequence[str]) -> Stream:
    name, _, spec = text.partition("=")
    method, rate, url, *body_file = spec.split(",", 3)
    parts = urlsplit(url)
    if parts.hostname not in ("127.0.0.1", "localhost", "::1"):
        raise SystemExit(f"{url}: only loopback targets")
    body = Path(body_file[0]).read_bytes() if body_file else b""
    lines = [f"{method} {parts.path}{'?' + parts.query if parts.query else ''} HTTP/1.1"]
    lines += [f"Host: {parts.netloc}", *headers, f"Content-Length: {len(body)}"]
    if body:
        lines.append("Content-Type: application/json")
    request = ("\r\n".join(lines) + "\r\n\r\n").encode() + body
    return Stream(name, float(rate), parts.hostname or "127.0.0.1", parts.port or 80, request)


async def answer(reader: asyncio.StreamReader) -> int:
    """Read one response; its status."""
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    for line in head.lower().split(b"\r\n"):
        if line.startswith(b"content-length:"):
            await reader.readexactly(int(line.split(b":", 1)[1]))
            break
    return status


async def connection(stream: Stream, due: asyncio.Queue[float | None]) -> None:
    reader, writer = await asyncio.open_connection(stream.host, stream.port)
    try:
        while (when := await due.get()) is not None:
            writer.write(stream.request)
            status = await answer(reader)
            stream.latencies.append(time.perf_counter() - when)
            stream.bad += status != 200
    finally:
        writer.close()


async def run_stream(stream: Stream, start: float, seconds: float) -> None:
    due: asyncio.Queue[float | None] = asyncio.Queue()
    workers = [asyncio.create_task(connection(stream, due)) for _ in range(CONNECTIONS)]
    for i in range(int(stream.rate * seconds)):
        when = start + i / stream.rate
        delay = when - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        due.put_nowait(when)
    for _ in workers:
        due.put_nowait(None)
    await asyncio.gather(*workers)


def percentile(values: list[float], share: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


async def main_async(streams: list[Stream], seconds: float) -> None:
    start = time.perf_counter() + 0.2  # every connection open first
    await asyncio.gather(*(run_stream(s, start, seconds) for s in streams))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.steady", description=__doc__)
    parser.add_argument("streams", nargs="+", help="NAME=METHOD,RATE,URL[,BODY_FILE]")
    parser.add_argument("-H", "--header", action="append", default=[])
    parser.add_argument("--seconds", type=float, default=5.0)
    args = parser.parse_args(argv)
    if not 0 < args.seconds <= 60:
        parser.error("--seconds in (0, 60]")
    streams = [parse_stream(s, args.header) for s in args.streams]
    if any(not 0 < s.rate <= 2000 for s in streams):
        parser.error("rates in (0, 2000] a second")
    try:
        import uvloop
    except ImportError:
        asyncio.run(main_async(streams, args.seconds))
    else:
        uvloop.run(main_async(streams, args.seconds))
    result = {
        s.name: {
            "rate": s.rate,
            "sent": len(s.latencies),
            "bad": s.bad,
            "p50_ms": (percentile(s.latencies, 0.50) or 0) * 1e3,
            "p99_ms": (percentile(s.latencies, 0.99) or 0) * 1e3,
            "max_ms": max(s.latencies, default=0) * 1e3,
        }
        for s in streams
    }
    json.dump(result, sys.stdout)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
