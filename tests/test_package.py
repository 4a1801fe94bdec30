"""The package a stranger installs: the wheel and sdist ``make dist`` builds carry what the
checkout has, and the wheel installed alone (no dev extra, no checkout on the path) works
end to end, offline (tests/package.py says how).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import tarfile
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from mock_server import __version__
from tests.package import ROOT, build_dist, fresh_venv, tracked, user_env

pytestmark = pytest.mark.slow  # builds, installs and starts real processes

KEY = "sk-wanmock-test"
BODY = {
    "model": "wan2.6-reference-video",
    "prompt": "A person dancing",
    "video_urls": ["https://example.com/ref.mp4"],
}
FIXTURE_TEST = """
import httpx

BODY = {"model": "wan2.6-reference-video", "prompt": "A person dancing",
        "video_urls": ["https://example.com/ref.mp4"]}


def test_fixture_runs_a_task(wanmock):
    auth = {"Authorization": f"Bearer {wanmock.api_key}"}
    task = httpx.post("https://api.evolink.ai/v1/videos/generations", json=BODY,
                      headers=auth).json()
    wanmock.run_until_idle()
    done = httpx.get(f"https://api.evolink.ai/v1/tasks/{task['id']}", headers=auth).json()
    assert done["status"] == "completed"


def test_server_fixture_and_callbacks(wanmock_server, callback_sink):
    body = {**BODY, "callback_url": callback_sink.url}
    httpx.post(f"{wanmock_server.base_url}/v1/videos/generations", json=body,
               headers={"Authorization": f"Bearer {wanmock_server.api_key}"})
    wanmock_server.advance(3600)
    assert callback_sink.call_count == 1
"""


@dataclass(frozen=True)
class Installed:
    wheel: Path
    sdist: Path
    bin: Path
    home: Path  # a directory with no checkout in it: the user's project

    def run(self, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            args, cwd=self.home, env=user_env(self.bin), capture_output=True, text=True,
            timeout=timeout,
        )  # fmt: skip


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Installed]:
    where = tmp_path_factory.mktemp("package")
    wheel, sdist = build_dist(where)
    bin_dir = fresh_venv(where / "venv", str(wheel))
    home = where / "home"
    (home / "examples").mkdir(parents=True)
    shutil.copy(ROOT / "examples" / "polling_client.py", home / "examples")
    yield Installed(wheel, sdist, bin_dir, home)


def test_package_wheel_carries_every_file_of_both_packages(installed: Installed) -> None:
    names = set(zipfile.ZipFile(installed.wheel).namelist())
    assert tracked("mock_server", "contracts") <= names
    assert {"mock_server/py.typed", "contracts/py.typed"} <= names
    assert f"wanmock-{__version__}.dist-info/licenses/LICENSE" in names


def test_package_sdist_carries_the_whole_checkout(installed: Installed) -> None:
    with tarfile.open(installed.sdist) as sdist:
        names = {name.split("/", 1)[1] for name in sdist.getnames() if "/" in name}
    assert tracked() - {".gitignore"} <= names


def test_package_metadata_shows_what_an_index_shows(installed: Installed) -> None:
    with zipfile.ZipFile(installed.wheel) as wheel:
        metadata = wheel.read(f"wanmock-{__version__}.dist-info/METADATA").decode()
    for line in (
        "License-Expression: MIT",
        "Classifier: Framework :: Pytest",
        "Classifier: Programming Language :: Python :: 3.13",
        "Provides-Extra: postgres",
    ):
        assert line in metadata.splitlines()
    assert "Project-URL: Changelog" in metadata
    assert not any(
        line.startswith("Requires-Dist: psycopg") and "extra ==" not in line
        for line in metadata.splitlines()
    )


def test_package_version_is_the_one_version(installed: Installed) -> None:
    shown = installed.run("wanmock", "--version")
    assert shown.stdout.strip() == f"wanmock {__version__}", shown.stderr
    metadata = installed.run(
        "python", "-c", "import importlib.metadata as m; print(m.version('wanmock'))"
    )
    assert metadata.stdout.strip() == __version__


def test_package_is_imported_from_the_venv_not_the_checkout(installed: Installed) -> None:
    where = installed.run("python", "-c", "import mock_server; print(mock_server.__file__)")
    assert str(installed.bin.parent) in where.stdout and str(ROOT) not in where.stdout


def test_package_serves_a_task_through_create_poll_and_advance(installed: Installed) -> None:
    args = ["--port", "0", "--clock", "virtual", "--db", ":memory:"]
    server = subprocess.Popen(
        [str(installed.bin / "wanmock"), "serve", *args],
        cwd=installed.home,
        env=user_env(installed.bin),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert server.stdout is not None
        first = server.stdout.readline()
        assert " at http" in first, first + (server.stderr.read() if server.stderr else "")
        with httpx.Client(base_url=first.rsplit(" at ", 1)[1].strip(), timeout=30) as client:
            auth = {"Authorization": f"Bearer {KEY}"}
            task = client.post("/v1/videos/generations", json=BODY, headers=auth).json()
            assert client.get(f"/v1/tasks/{task['id']}", headers=auth).json()["status"] in (
                "pending",
                "processing",
            )
            client.post("/_mock/clock/advance", json={"seconds": 600}).raise_for_status()
            done = client.get(f"/v1/tasks/{task['id']}", headers=auth).json()
            assert done["status"] == "completed" and done["results"]
            video = client.get(done["results"][0])
            assert video.status_code == 200 and video.content[4:8] == b"ftyp"
    finally:
        server.terminate()
        server.communicate(timeout=15)


def test_package_verify_client_passes_the_example_client(installed: Installed) -> None:
    client = "POLL_SECONDS=0.05 python examples/polling_client.py"
    result = installed.run(
        "wanmock", "verify-client", "--cmd", client, "--examples", "3",
        "--max-retry-after", "0", "--seed", "0", "--report-json", "report.json",
        timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert json.loads((installed.home / "report.json").read_text())["exit_status"] == 0


def test_package_pytest_plugin_needs_no_conftest(installed: Installed) -> None:
    project = installed.home / "plugin-user"
    project.mkdir()
    (project / "test_with_wanmock.py").write_text(FIXTURE_TEST)
    result = installed.run(
        "python", "-m", "pytest", "-q", "-p", "no:cacheprovider", str(project), timeout=120
    )
    assert result.returncode == 0 and "2 passed" in result.stdout, result.stdout + result.stderr


def test_package_postgresql_without_the_extra_names_the_extra(installed: Installed) -> None:
    result = installed.run(
        "wanmock", "serve", "--port", "0", "--db", "postgresql://u:secret@127.0.0.1:9/db"
    )
    assert result.returncode == 2
    [line] = result.stderr.splitlines()
    assert "pip install 'wanmock[postgres]'" in line and "secret" not in line
