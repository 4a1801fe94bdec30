"""The bench's own parts (bench/), run small: a bench that breaks is found by the suite,
not by the next person who runs ``make bench``."""

from __future__ import annotations

from bench import inproc, wrk

WRK_OUTPUT = """Running 2s test @ http://127.0.0.1:8080/v1/tasks/x
  1 threads and 24 connections
  Latency Distribution
     50%  612.00us
     75%    1.01ms
     90%    2.50ms
     99%    1.20s
  40123 requests in 2.00s, 30.12MB read
  Non-2xx or 3xx responses: 3
  Socket errors: connect 0, read 1, write 0, timeout 2
Requests/sec:  20061.50
Transfer/sec:     15.06MB
"""


def test_bench_advance_settles_every_task_it_created() -> None:
    found = inproc.measure_advance("memory", 40, 3600.0)
    assert found["settled_by_advance"] == 40
    assert sum(found["statuses_after"].values()) == 40


def test_bench_wrk_output_is_read_with_its_faults_and_latency() -> None:
    found = wrk.parse(WRK_OUTPUT)
    assert (found.rps, found.requests, found.non_2xx, found.errors) == (20061.5, 40123, 3, 3)
    assert found.latency_ms == {"50": 0.612, "75": 1.01, "90": 2.5, "99": 1200.0}
