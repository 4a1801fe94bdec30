"""verify-client against a real endpoint, with `wanmock serve` standing in for it
(contracts/client/real.py): one run through a recording proxy, under a spend cap."""

from __future__ import annotations

import sys
from decimal import Decimal
from pathlib import Path

from contracts.client import CommandClient
from contracts.client.real import DEFAULT_REQUEST, estimated_cost, verify_real
from tests.server import running

EXAMPLE = Path(__file__).parent.parent / "examples" / "polling_client.py"
CLIENT = CommandClient(f"POLL_SECONDS=0.05 {sys.executable} {EXAMPLE}")
STEPPED = ("--clock", "stepped", "--step", "10", "--profile", "fast")


def test_real_verification_passes_a_correct_client_and_records_what_it_spent() -> None:
    with running(*STEPPED) as server:
        result = verify_real(CLIENT, server.base_url, "sk-wanmock-test", Decimal("100"))
    assert result.status == 0 and result.run is not None
    assert result.run.tasks[0]["status"] == "completed" and result.reserved > 0
    assert {o.check.name for o in result.outcomes if o.status == "passed"} >= {
        "client_creates_once", "client_reports_right_result", "client_sends_valid_requests"
    }  # fmt: skip


def test_real_verification_refuses_a_request_dearer_than_the_cap() -> None:
    assert estimated_cost(DEFAULT_REQUEST) > Decimal("1")
    result = verify_real(CLIENT, "http://127.0.0.1:9", "k", Decimal("1"))
    assert result.status == 2 and result.run is None


def test_real_verification_stops_a_client_once_reservations_reach_the_cap() -> None:
    resubmitter = CommandClient(
        f'{sys.executable} -c "import os, json, urllib.request as u\n'
        "while True:\n"
        " r = u.Request(os.environ['WANMOCK_BASE_URL'] + '/v1/videos/generations', "
        "data=os.environ['WANMOCK_REQUEST'].encode(), method='POST')\n"
        " r.add_header('Content-Type', 'application/json')\n"
        ' u.urlopen(r).read()"'
    )
    cap = estimated_cost(DEFAULT_REQUEST) * 2
    with running(*STEPPED) as server:
        result = verify_real(resubmitter, server.base_url, "sk-wanmock-test", cap)
    assert result.status == 1 and result.reserved >= cap
    assert result.reserved < cap + estimated_cost(DEFAULT_REQUEST) + 1
    assert "client_creates_once" in {o.check.name for o in result.outcomes if o.violation}


TIGHT = CommandClient(
    f'{sys.executable} -c "import os, json, urllib.request as u\n'
    "base = os.environ['WANMOCK_BASE_URL']\n"
    "def call(path, data=None):\n"
    " r = u.Request(base + path, data=data, method='POST' if data else 'GET')\n"
    " r.add_header('Content-Type', 'application/json')\n"
    " return json.load(u.urlopen(r))\n"
    "task = call('/v1/videos/generations', os.environ['WANMOCK_REQUEST'].encode())\n"
    "while task['status'] not in ('completed', 'failed'):\n"
    " task = call('/v1/tasks/' + task['id'])\n"
    "print(json.dumps({'status': 'completed', 'video_urls': task.get('results', [])}))\""
)


def test_real_verification_catches_a_client_that_polls_with_no_pause_on_a_real_clock() -> None:
    with running("--clock", "real", "--profile", "fast") as server:
        result = verify_real(TIGHT, server.base_url, "sk-wanmock-test", Decimal("100"))
    broke = {o.check.name: str(o.violation) for o in result.outcomes if o.violation}
    assert "it polls with no pause" in broke["client_does_not_poll_tightly"]
