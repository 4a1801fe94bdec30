"""300 pytest tests through the ``wanmock`` fixture against 300 on bare respx routes,
each kind a pytest session of its own in a fresh process, alternating, session set-up
included.

Both kinds do the same work with one shared ``httpx.Client``: create a task, poll it,
assert it completed. The bare test answers from two respx routes with canned JSON (the
fake's own answers, so the bytes match); the fake's test also calls
``wanmock.run_until_idle()``. Each session is timed from its start to its finish
(``pytest_sessionstart`` to ``pytest_sessionfinish``): collection, every test's set-up,
call and teardown, and the first use of the fixture, which imports the fake. What is
common to both and not the fixture's (the interpreter, pytest's start-up and plugins)
is left out. The sessions alternate, bare then fake, for a few rounds, and medians are
compared. Each test's own time (set-up to teardown) is kept too, as a diagnostic.

    python -m bench.fixture --tests 300 --rounds 3
"""

from __future__ import annotations

import argparse
import contextlib
import json
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Generator, Sequence
from pathlib import Path
from typing import Any

import pytest

WARMUP = 20  # tests of each kind left out of the per-test median: first imports, caches

PREAMBLE = """
import httpx

BASE = "https://api.evolink.ai"
BODY = {body!r}
CREATED = {created!r}
DONE = {done!r}
CLIENT = httpx.Client()
"""

TESTS = {
    "bare": """
def bare(respx_mock):
    respx_mock.post(f"{BASE}/v1/videos/generations").respond(json=CREATED)
    respx_mock.get(f"{BASE}/v1/tasks/{CREATED['id']}").respond(json=DONE)
    auth = {"Authorization": "Bearer sk-canned"}
    task = CLIENT.post(f"{BASE}/v1/videos/generations", json=BODY, headers=auth).json()
    done = CLIENT.get(f"{BASE}/v1/tasks/{task['id']}", headers=auth).json()
    assert done["status"] == "completed"
""",
    "fake": """
def fake(wanmock):
    auth = {"Authorization": f"Bearer {wanmock.api_key}"}
    task = CLIENT.post(f"{BASE}/v1/videos/generations", json=BODY, headers=auth).json()
    wanmock.run_until_idle()
    done = CLIENT.get(f"{BASE}/v1/tasks/{task['id']}", headers=auth).json()
    assert done["status"] == "completed"
""",
}

REPEAT = """
for _i in range({count}):
    globals()[f"test_{kind}_{{_i}}"] = {kind}
"""
KINDS = tuple(TESTS)


def canned_answers() -> tuple[dict[str, Any], dict[str, Any]]:
    """The fake's answers to a create and to the poll after it completed."""
    import httpx

    from bench.inproc import BODY
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
    """A pytest plugin that times the session and each test's whole protocol."""

    def __init__(self) -> None:
        self.session = {"wall": 0.0, "cpu": 0.0}
        self.tests: list[float] = []
        self.failed: list[str] = []

    @pytest.hookimpl(tryfirst=True)
    def pytest_sessionstart(self) -> None:
        self.session = {"wall": -time.perf_counter(), "cpu": -time.process_time()}

    @pytest.hookimpl(trylast=True)
    def pytest_sessionfinish(self) -> None:
        self.session["wall"] += time.perf_counter()
        self.session["cpu"] += time.process_time()

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_protocol(self, item: pytest.Item) -> Generator[None, object, object]:
        started = time.perf_counter()
        try:
            return (yield)
        finally:
            self.tests.append(time.perf_counter() - started)

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if report.failed:
            self.failed.append(report.nodeid)


def session(kind: str, folder: Path) -> dict[str, Any]:
    """One pytest session of ``kind``'s tests in this process (a fresh one: the fake's
    modules are not imported yet, so the session pays for importing them)."""
    timer = Timer()
    argv = ["-q", "-p", "no:cacheprovider", "--rootdir", str(folder)]
    argv += ["-c", str(folder / "pytest.ini"), str(folder / f"test_{kind}.py")]
    with contextlib.redirect_stdout(sys.stderr):  # stdout carries the JSON only
        code = pytest.main(argv, plugins=[timer])
    return {
        "passed": code == 0 and not timer.failed,
        "failed": timer.failed[:5],
        "session_s": timer.session["wall"],
        "session_cpu_s": timer.session["cpu"],
        "median_test_ms": statistics.median(timer.tests[WARMUP:]) * 1e3,
        "tests_s": sum(timer.tests),  # the rest of the session is collection and start-up
        "first_test_ms": timer.tests[0] * 1e3,  # the fake's imports, for its kind
        "slowest_ms": sorted(timer.tests)[-3:],
    }


def measure(count: int, rounds: int) -> dict[str, Any]:
    from bench.inproc import BODY

    created, done = canned_answers()
    runs: dict[str, list[dict[str, Any]]] = {kind: [] for kind in KINDS}
    with tempfile.TemporaryDirectory(prefix="wanmock-bench-") as tmp:
        folder = Path(tmp)
        (folder / "pytest.ini").write_text("[pytest]\n")
        preamble = PREAMBLE.format(body=BODY, created=created, done=done)
        for kind, test in TESTS.items():
            repeat = REPEAT.format(count=count, kind=kind)
            (folder / f"test_{kind}.py").write_text(preamble + test + repeat)
        for _ in range(rounds):
            for kind in KINDS:
                argv = [sys.executable, "-m", "bench.fixture", "--session", kind, tmp]
                done_ = subprocess.run(argv, capture_output=True, text=True, timeout=300)
                if done_.returncode != 0:
                    raise RuntimeError(f"{kind} session failed:\n{done_.stderr[-2000:]}")
                runs[kind].append(json.loads(done_.stdout.strip().splitlines()[-1]))

    def median(kind: str, key: str) -> float:
        return float(statistics.median(run[key] for run in runs[kind]))

    bare_s, fake_s = median("bare", "session_s"), median("fake", "session_s")
    bare_cpu, fake_cpu = median("bare", "session_cpu_s"), median("fake", "session_cpu_s")
    bare_test, fake_test = median("bare", "median_test_ms"), median("fake", "median_test_ms")
    failed = [nodeid for kind in KINDS for run in runs[kind] for nodeid in run["failed"]]
    return {
        "tests_per_kind": count,
        "rounds": rounds,
        "warmup_per_kind": WARMUP,
        "passed": all(run["passed"] for kind in KINDS for run in runs[kind]),
        "failed": failed[:5],
        "bare_ms_per_test": bare_s * 1e3 / count,
        "wanmock_ms_per_test": fake_s * 1e3 / count,
        "ratio_wanmock_over_bare": fake_s / bare_s,
        "bare_cpu_ms_per_test": bare_cpu * 1e3 / count,
        "wanmock_cpu_ms_per_test": fake_cpu * 1e3 / count,
        "ratio_cpu_wanmock_over_bare": fake_cpu / bare_cpu,
        "bare_median_test_ms": bare_test,
        "wanmock_median_test_ms": fake_test,
        "ratio_median_test": fake_test / bare_test,
        "runs": runs,
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.fixture", description=__doc__)
    parser.add_argument("--tests", type=int, default=300, help="tests of each kind")
    parser.add_argument("--rounds", type=int, default=3, help="sessions of each kind")
    parser.add_argument("--session", nargs=2, metavar=("KIND", "DIR"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.session:
        result = session(args.session[0], Path(args.session[1]))
    else:
        if args.tests <= WARMUP or not 1 <= args.rounds <= 20:
            parser.error(f"--tests must be more than {WARMUP}, --rounds 1..20")
        result = measure(args.tests, args.rounds)
    sys.stdout.flush()
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
