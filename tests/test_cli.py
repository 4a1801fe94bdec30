"""``wanmock serve`` as a process: banner, flags, and surviving ``kill -9``."""

from __future__ import annotations

import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import AUTH, BODY
from tests.server import ServerProcess, running


def test_cli_help_lists_every_flag() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "mock_server", "serve", "--help"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    for flag in (
        "--host",
        "--port",
        "--db",
        "--clock",
        "--time-scale",
        "--profile",
        "--seed",
        "--api-key",
        "--allow-callback-host",
        "--callback-ca-file",
        "--control-token",
        "--config",
    ):
        assert flag in out


def test_cli_bad_flag_value_is_a_readable_error() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "mock_server", "serve", "--clock", "sideways"],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 2
    assert "--clock" in result.stderr and "sideways" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("db", ["postgresql://me@127.0.0.1:9/db", "redis://127.0.0.1/0"])
def test_cli_store_it_cannot_use_stops_the_start(db: str, tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "mock_server", "serve", "--port", "0", "--db", db, "--db-wait", "0"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert result.returncode == 2 and db in result.stderr
    assert "Traceback" not in result.stderr
    assert list(tmp_path.iterdir()) == []  # no file made under a folder named like the URL


def test_cli_bad_environment_value_names_the_variable() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "mock_server", "serve"],
        capture_output=True,
        text=True,
        env={"WANMOCK_TIME_SCALE": "fast", "PATH": ""},
    )
    assert result.returncode == 2 and "WANMOCK_TIME_SCALE" in result.stderr


def test_cli_banner_curl_line_works_as_pasted() -> None:
    with running("--clock", "virtual") as server:
        curl = next(line for line in server.banner if "curl" in line).strip()
        argv = shlex.split(curl)
        assert argv[0] == "curl"
        url = next(a for a in argv if a.startswith("http"))
        body = argv[argv.index("-d") + 1]
        answer = server.client.post(url, content=body, headers=AUTH)
        assert answer.status_code == 200 and answer.json()["status"] == "pending"


def test_cli_environment_sets_flags() -> None:
    with running(env={"WANMOCK_CLOCK": "stepped", "WANMOCK_API_KEY": "sk-env=7"}) as server:
        assert server.client.get("/_mock/clock").json()["mode"] == "stepped"
        keys = server.client.get("/_mock/keys").json()["keys"]
        assert keys["sk-env"]["credits"] == "7"


def test_cli_kill_9_loses_no_acknowledged_task_or_ledger_entry(tmp_path: Path) -> None:
    db = tmp_path / "state.db"
    server = ServerProcess(["--db", str(db), "--clock", "virtual"])
    try:
        ids = [
            server.client.post("/v1/videos/generations", json=BODY, headers=AUTH).json()["id"]
            for _ in range(5)
        ]
        server.client.post("/_mock/clock/advance", json={"seconds": 3600})
        ids.append(
            server.client.post("/v1/videos/generations", json=BODY, headers=AUTH).json()["id"]
        )
        before = {
            i: server.client.get(f"/v1/tasks/{i}", headers=AUTH).text.replace(
                server.base_url, "BASE"
            )
            for i in ids
        }
        ledger = server.client.get("/_mock/ledger").json()
        now = server.client.get("/_mock/clock").json()["now"]
    finally:
        server.kill()
    with running("--clock", "virtual", db=db) as again:
        after = {
            i: again.client.get(f"/v1/tasks/{i}", headers=AUTH).text.replace(again.base_url, "BASE")
            for i in ids
        }
        assert after == before
        assert again.client.get("/_mock/ledger").json() == ledger
        assert again.client.get("/_mock/clock").json()["now"] == now
