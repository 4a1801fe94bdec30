"""In-process figures: one virtual advance over many tasks, memory per task, and the
poll's cost at the ASGI level (no sockets, so no noise from the kernel or the other
process sharing the cores).

Each measurement runs in a fresh process (the bench starts ``python -m bench.inproc``) so
one cannot warm or bloat the next, and prints one JSON object on stdout.

    python -m bench.inproc advance --store memory --tasks 2000 --seconds 3600
    python -m bench.inproc rss --store file --marks 50000,200000
    python -m bench.inproc asgi --polls 20000
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import statistics
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Awaitable, Callable, MutableMapping, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

import orjson

from bench import bare_app
from mock_server.api.app import create_app
from mock_server.runtime.config import Config
from mock_server.service.fake import Fake
from mock_server.store.open import SqlStore
from mock_server.store.sqlite import SqliteDialect

KEY = "sk-wanmock-test"
ADVANCE_EVERY = 10_000  # the RSS run settles its tasks in steps of this many
CREDITS = Decimal("10000000")
BODY = {
    "model": "wan2.6-reference-video",
    "prompt": "x",
    "video_urls": ["https://example.com/a.mp4"],
}


def rss_mib() -> float:
    """Current resident set size; on systems without /proc, the peak (an upper bound)."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    import resource

    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


def make_fake(db: str) -> Fake:
    return Fake(Config(db=db, clock="virtual", api_key=((KEY, CREDITS),)))


def create_tasks(fake: Fake, count: int, batch: int = 1) -> float:
    """``count`` creates through ``Fake.create_task``; ``batch`` of them share one store
    transaction (a faster way to fill a store, the same code path otherwise)."""
    store = fake.store
    assert isinstance(store, SqlStore) and isinstance(store.dialect, SqliteDialect), (
        "the bench fills SQLite stores"
    )
    started = time.perf_counter()
    done = 0
    while done < count:
        with store.transaction():
            for _ in range(min(batch, count - done)):
                fake.create_task(KEY, BODY)
                done += 1
    return time.perf_counter() - started


def settled_count(fake: Fake) -> int:
    count, cursor = 0, None
    while True:
        page, cursor = fake.store.page_tasks(limit=1000, after=cursor)
        count += sum(t.settled for t in page)
        if cursor is None:
            return count


def statuses(fake: Fake) -> Counter[str]:
    found: Counter[str] = Counter()
    cursor = None
    while True:
        page, cursor = fake.store.page_tasks(limit=1000, after=cursor)
        found.update(fake.observe(t).status for t in page)
        if cursor is None:
            return found


def measure_advance(store: str, tasks: int, seconds: float) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="wanmock-bench-") as tmp:
        fake = make_fake(":memory:" if store == "memory" else str(Path(tmp) / "state.db"))
        create_s = create_tasks(fake, tasks)
        settled_before = settled_count(fake)
        started = time.perf_counter()
        asyncio.run(fake.advance(seconds))
        advance_s = time.perf_counter() - started
        settled = settled_count(fake) - settled_before
        after = statuses(fake)
        fake.store.close()
    return {
        "store": store,
        "tasks": tasks,
        "advance_seconds": seconds,
        "create_s": create_s,
        "advance_s": advance_s,
        "settled_by_advance": settled,
        "statuses_after": dict(after),
    }


def store_bytes(db: Path) -> int:
    """The store's size on disk: the database and its write-ahead log."""
    return sum(p.stat().st_size for p in (db, Path(f"{db}-wal")) if p.exists())


def measure_rss(store: str, marks: Sequence[int], batch: int = 500) -> dict[str, Any]:
    """RSS after storing each of ``marks`` tasks (created, then settled by an advance
    every ``ADVANCE_EVERY``, as a long-running fake's history is), and whether the first
    task still answers its poll once it left every cache."""
    with tempfile.TemporaryDirectory(prefix="wanmock-bench-") as tmp:
        db = Path(tmp) / "state.db"
        before_fake = rss_mib()
        fake = make_fake(":memory:" if store == "memory" else str(db))
        empty = rss_mib()
        first = fake.create_task(KEY, BODY).id
        made, create_s, points = 1, 0.0, []
        for mark in sorted(marks):
            while made < mark:
                step = min(ADVANCE_EVERY - made % ADVANCE_EVERY, mark - made)
                create_s += create_tasks(fake, step, batch)
                made += step
                if made % ADVANCE_EVERY == 0:
                    asyncio.run(fake.advance(3600))
            gc.collect()
            point = {"tasks": made, "rss_mib": rss_mib(), "create_s": create_s}
            if store == "file":
                point["disk_bytes_per_task"] = store_bytes(db) / made
            points.append(point)
            print(f"rss: {made:,} tasks, {point['rss_mib']:.0f} MiB", file=sys.stderr, flush=True)
        early = fake.task_json(fake.get_task(KEY, first))
        fake.store.close()
    last = points[-1]
    return {
        "store": store,
        "tasks": last["tasks"],
        "points": points,
        "create_s": create_s,
        "rss_before_fake_mib": before_fake,
        "rss_empty_fake_mib": empty,
        "rss_mib": last["rss_mib"],
        "growth_mib": last["rss_mib"] - points[0]["rss_mib"],
        "kib_per_task": (last["rss_mib"] - empty) * 1024 / last["tasks"],
        "first_task_answers": orjson.loads(early).get("status") == "completed",
    }


Message = MutableMapping[str, Any]
Asgi = Callable[
    [Message, Callable[[], Awaitable[Message]], Callable[[Message], Awaitable[None]]],
    Awaitable[None],
]


def measure_asgi(polls: int, rounds: int = 5) -> dict[str, Any]:
    """Seconds per poll through each app's full ASGI stack, called directly, alternating."""
    app = create_app(Config(db=":memory:", clock="virtual"))
    fake: Fake = app.state.fake
    task = fake.create_task(KEY, BODY)
    body = fake.task_json(task)
    path = f"/v1/tasks/{task.id}"
    scope: Message = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"127.0.0.1:8080"), (b"authorization", f"Bearer {KEY}".encode())],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8080),
    }
    mismatches = 0

    async def receive() -> Message:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Message) -> None:
        nonlocal mismatches
        if message["type"] == "http.response.body" and message["body"] != body:
            mismatches += 1

    async def poll(target: Asgi, count: int) -> float:
        started = time.perf_counter()
        for _ in range(count):
            await target(dict(scope), receive, send)
        return (time.perf_counter() - started) / count

    async def run() -> dict[str, list[float]]:
        apps: dict[str, Asgi] = {"bare": bare_app.create_app(body), "wanmock": app}
        times: dict[str, list[float]] = {"bare": [], "wanmock": []}
        for target in apps.values():  # warm both before counting
            await poll(target, polls // 5)
        for _ in range(rounds):
            for name, target in apps.items():
                times[name].append(await poll(target, polls))
        return times

    try:
        import uvloop
    except ImportError:
        times = asyncio.run(run())
    else:
        times = uvloop.run(run())
    fake.store.close()
    bare_us = statistics.median(times["bare"]) * 1e6
    wanmock_us = statistics.median(times["wanmock"]) * 1e6
    return {
        "polls_per_round": polls,
        "rounds": rounds,
        "same_body": mismatches == 0,
        "bare_us_per_poll": bare_us,
        "wanmock_us_per_poll": wanmock_us,
        "wanmock_extra_us_per_poll": wanmock_us - bare_us,
        "ratio_bare_over_wanmock": bare_us / wanmock_us,
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.inproc", description=__doc__)
    parser.add_argument("what", choices=["advance", "rss", "asgi"])
    parser.add_argument("--store", choices=["memory", "file"], default="memory")
    parser.add_argument("--tasks", type=int, default=2000)
    parser.add_argument(
        "--marks", default="50000,200000", help="rss: task counts to measure at (comma list)"
    )
    parser.add_argument("--seconds", type=float, default=3600.0, help="advance by this much")
    parser.add_argument("--polls", type=int, default=20000, help="ASGI polls per round")
    args = parser.parse_args(argv)
    if args.what == "advance":
        result = measure_advance(args.store, args.tasks, args.seconds)
    elif args.what == "rss":
        result = measure_rss(args.store, [int(m) for m in args.marks.split(",")])
    else:
        result = measure_asgi(args.polls)
    json.dump(result, sys.stdout)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
