"""One pytest test through the ``wanmock`` fixture against the same test on bare respx
routes, measured in one pytest run.

Both tests do the same work with one shared ``httpx.Client``: create a task, poll it,
assert it completed. The bare test answers from two respx routes with canned JSON (the
fake's own answers, so the bytes match); the fake's test also calls
``wanmock.run_until_idle()``. The two kinds of test alternate, and each is timed from
the start of its set-up to the end of its teardown (``pytest_runtest_protocol``), so
the figure is what a user's suite pays per test. Runs in a fresh process and prints
one JSON object:

    python -m bench.fixture --tests 300
"""

from __future__ import annotations

import argparse
import contextlib
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Generator, Sequence
from pathlib import Path
from typing import Any

import pytest

from bench.inproc import BODY

WARMUP = 20  # tests of each kind not counted: imports, first connections, caches

TEST_FILE = """
import httpx

BASE = "https://api.evolink.ai"
BODY = {body!r}
CREATED = {created!r}
DONE = {done!r}
CLIENT = httpx.Client()


def bare(respx_mock):
    respx_mock.post(f"{{BASE}}/v1/videos/generations").respond(json=CREATED)
    respx_mock.get(f"{{BASE}}/v1/tasks/{{CREATED['id']}}").respond(json=DONE)
    auth = {{"Authorization": "Bearer sk-canned"}}
    task = CLIENT.post(f"{{BASE}}/v1/videos/generations", json=BODY, headers=auth).json()
    done = CLIENT.get(f"{{BASE}}/v1/tasks/{{task['id']}}", headers=auth).json()
    assert done["status"] == "completed"


def fake(wanmock):
    auth = {{"Authorization": f"Bearer {{wanmock.api_key}}"}}
    task = CLIENT.post(f"{{BASE}}/v1/videos/generations", json=BODY, headers=auth).json()
    wanmock.run_until_idle()
    done = CLIENT.get(f"{{BASE}}/v1/tasks/{{task['id']}}", headers=auth).json()
    assert done["status"] == "completed"


for _i in range({count}):
    globals()[f"test_bare_{{_i}}"] = bare
    globals()[f"test_fake_{{_i}}"] = fake
"""


def canned_answers() -> tuple[dict[str, Any], dict[str, Any]]:
    """The fake's answers to a create and to the poll after it completed."""
    import httpx

    from mock_server.testing.embedded import EmbeddedFake

    wanmock = EmbeddedFake()
    wanmock.route()
    try:
        auth = {"Authorization": f"Bearer {wanmock.api_key}"}
        with httpx.Client(base_url="https://api.evolink.ai") as client:
            created = client.post("/v1/videos/generations", json=BODY, headers=auth).json()
            wanmock.run_until_idle()
            done = client.get(f"/v1/tasks/{created['id']}", headers=auth).json()
    finally:
        wanmock.close()
    return created, done


class Timer:
    """A pytest plugin that times each test's whole protocol (set-up, call, teardown)."""

    def __init__(self) -> None:
        self.seconds: dict[str, list[float]] = {"bare": [], "fake": []}
        self.cpu: dict[str, list[float]] = {"bare": [], "fake": []}
        self.failed: list[str] = []

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_protocol(self, item: pytest.Item) -> Generator[None, object, object]:
        started, cpu = time.perf_counter(), time.process_time()
        try:
            return (yield)
        finally:
            kind = "bare" if item.name.startswith("test_bare") else "fake"
            self.seconds[kind].append(time.perf_counter() - started)
            self.cpu[kind].append(time.process_time() - cpu)

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if report.failed:
            self.failed.append(report.nodeid)


def measure(count: int) -> dict[str, Any]:
    created, done = canned_answers()
    timer = Timer()
    with tempfile.TemporaryDirectory(prefix="wanmock-bench-") as tmp:
        test_file = Path(tmp) / "test_one.py"
        test_file.write_text(TEST_FILE.format(body=BODY, created=created, done=done, count=count))
        (Path(tmp) / "pytest.ini").write_text("[pytest]\n")
        argv = ["-q", "-p", "no:cacheprovider", "--rootdir", tmp, "-c", f"{tmp}/pytest.ini"]
        # the fake was imported above for the canned answers: too late to rewrite it
        argv += ["-W", "ignore::pytest.PytestAssertRewriteWarning", tmp]
        with contextlib.redirect_stdout(sys.stderr):  # stdout carries the JSON only
            code = pytest.main(argv, plugins=[timer])

    def median_ms(values: list[float]) -> float:
        return statistics.median(values[WARMUP:]) * 1e3

    bare_ms, fake_ms = median_ms(timer.seconds["bare"]), median_ms(timer.seconds["fake"])
    bare_cpu, fake_cpu = median_ms(timer.cpu["bare"]), median_ms(timer.cpu["fake"])
    return {
        "tests_per_kind": count,
        "warmup_per_kind": WARMUP,
        "passed": code == 0 and not timer.failed,
        "failed": timer.failed[:5],
        "bare_ms_per_test": bare_ms,
        "wanmock_ms_per_test": fake_ms,
        "ratio_wanmock_over_bare": fake_ms / bare_ms,
        "bare_cpu_ms_per_test": bare_cpu,
        "wanmock_cpu_ms_per_test": fake_cpu,
        "ratio_cpu_wanmock_over_bare": fake_cpu / bare_cpu,
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.fixture", description=__doc__)
    parser.add_argument("--tests", type=int, default=300, help="tests of each kind")
    args = parser.parse_args(argv)
    if args.tests <= WARMUP:
        parser.error(f"--tests must be more than {WARMUP}")
    result = measure(args.tests)
    sys.stdout.flush()
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
