"""The "Use in CI" recipe (docs/ci.md), run as written: the workflow's shell steps, in a
fresh, empty virtual environment, against the project's example client.

The project holds the wheel ``make dist`` builds where the recipe's ``WANMOCK_PACKAGE``
says; the install step installs it with its runtime dependencies only, offline from the
wheelhouse (tests/package.py), in place of the recipe's ``pip install`` from an index.
Each ``run:`` step goes to ``bash -eo pipefail`` as GitHub Actions runs it, with the
job's ``env:``; the fake listens on a free port (``WANMOCK_PORT``) instead of 8080, which
other processes on a shared machine may hold.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import signal
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
import yaml

from mock_server import __version__
from mock_server.runtime.clock import monotonic
from mock_server.testing.embedded import free_port
from tests.package import ROOT, build_dist, fresh_venv, offline_install, user_env
from tests.test_readme import blocks, commands, section

# Runs the CI recipe: real installs and a real test run.
pytestmark = pytest.mark.slow

INSTALL = 'pip install "$WANMOCK_PACKAGE"'


def workflow() -> dict[str, Any]:
    [text] = blocks(section("Use in CI"), "yaml")
    loaded: dict[str, Any] = yaml.safe_load(text)
    return loaded


def user_project(where: Path) -> Path:
    """A project with the example client and its tests, as the recipe assumes."""
    (where / "examples").mkdir(parents=True)
    (where / "tests").mkdir()
    shutil.copy(ROOT / "examples" / "polling_client.py", where / "examples")
    shutil.copy(ROOT / "examples" / "test_polling_client.py", where / "tests")
    return where


def test_ci_recipe_workflow_runs_as_written(tmp_path: Path) -> None:
    job = workflow()["jobs"]["test"]
    steps = [step for step in job["steps"] if "run" in step]
    assert steps[0]["run"].strip() == INSTALL
    assert any(s.get("uses", "").startswith("actions/upload-artifact") for s in job["steps"])
    port = free_port()
    bin_dir = fresh_venv(tmp_path / "venv")
    project = user_project(tmp_path / "project")
    wheel, _ = build_dist(tmp_path / "build")
    (project / job["env"]["WANMOCK_PACKAGE"]).parent.mkdir()
    shutil.copy(wheel, project / job["env"]["WANMOCK_PACKAGE"])
    env = user_env(bin_dir)
    env.update({k: str(v).replace(":8080", f":{port}") for k, v in job["env"].items()})
    env.update(WANMOCK_PORT=str(port))
    offline = " ".join(offline_install(str(bin_dir / "python")))
    groups = []
    try:
        for step in steps:
            script = step["run"].replace(INSTALL, f'{offline} "$WANMOCK_PACKAGE"')
            process = subprocess.Popen(
                ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", script],
                cwd=project,
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
                start_new_session=True,  # the fake it starts stays in this group
            )
            groups.append(process.pid)
            started = monotonic()
            out, _ = process.communicate(timeout=120)
            print(f"{monotonic() - started:6.1f} s  {step.get('name')}")
            assert process.returncode == 0, f"step {step.get('name')!r} failed:\n{out}"
    finally:
        for group in groups:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(group, signal.SIGTERM)
    reports = project / "reports"
    assert (bin_dir / "wanmock").exists()  # the recipe's wanmock is the fresh install
    client_tests = ET.parse(reports / "client-tests.xml").getroot().find("testsuite")
    assert client_tests is not None
    assert (client_tests.get("tests"), client_tests.get("failures")) == ("2", "0")
    assert client_tests.get("skipped") == "0"
    verified = ET.parse(reports / "verify-client.xml").getroot()
    assert verified.get("failures") == "0" and int(verified.get("tests", "0")) > 9
    assert json.loads((reports / "verify-client.json").read_text())["exit_status"] == 0


def test_ci_recipe_installs_the_wheel_make_dist_builds() -> None:
    package = workflow()["jobs"]["test"]["env"]["WANMOCK_PACKAGE"]
    assert Path(package).name == f"wanmock-{__version__}-py3-none-any.whl"
    assert "git+<your clone>" in section("Use in CI")


def test_ci_recipe_shell_equivalent_runs_the_same_commands() -> None:
    job = workflow()["jobs"]["test"]
    [shell] = blocks(section("Use in CI"), "sh")
    said = {" ".join(c.split()) for c in commands(shell)}
    for step in job["steps"]:
        for command in commands(step.get("run", "")):
            assert " ".join(command.split()) in said, command
    for name, value in job["env"].items():
        assert f"{name}={value}" in shell
    assert re.search(r"^trap .*kill", shell, re.M)  # the background fake is stopped
