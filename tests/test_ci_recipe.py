"""The README's "Use in CI" recipe, run as written: the workflow's shell steps, in a fresh
virtual environment with this checkout installed, against the project's example client.

The virtual environment is new and holds wanmock installed from a copy of this checkout
(not editable, ``--no-deps``); its dependencies come from the running interpreter's
site-packages through a ``.pth`` file, so nothing is downloaded and the test stays well
under a minute. Each ``run:`` step goes to ``bash -eo pipefail`` as GitHub Actions runs
it, with the job's ``env:``; the fake listens on a free port (``WANMOCK_PORT``) instead
of 8080, which other processes on a shared machine may hold.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import sysconfig
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
import yaml

from mock_server.runtime.clock import monotonic
from mock_server.testing.embedded import free_port
from tests.test_readme import blocks, commands, section

# Runs the CI recipe: real installs and a real test run.
pytestmark = pytest.mark.slow

ROOT = Path(__file__).parent.parent
INSTALL = "pip install wanmock"


def workflow() -> dict[str, Any]:
    [text] = blocks(section("Use in CI"), "yaml")
    loaded: dict[str, Any] = yaml.safe_load(text)
    return loaded


def fresh_venv(where: Path) -> Path:
    """A new virtual environment that sees this interpreter's packages but not wanmock."""
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(where)], check=True)
    [site] = (where / "lib").glob("python3*/site-packages")
    (site / "wanmock-deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    return where / "bin"


def checkout_copy(where: Path) -> Path:
    """What ``pip install`` needs of this checkout, so its build leaves the tree alone."""
    skip = shutil.ignore_patterns("__pycache__", "*.egg-info")
    for name in ("mock_server", "contracts"):
        shutil.copytree(ROOT / name, where / name, ignore=skip)
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, where / name)
    return where


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
    source = checkout_copy(tmp_path / "wanmock-src")
    project = user_project(tmp_path / "project")
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH")}
    env.update({k: str(v).replace(":8080", f":{port}") for k, v in job["env"].items()})
    env.update(PATH=f"{bin_dir}{os.pathsep}{env['PATH']}", WANMOCK_PORT=str(port))
    groups = []
    try:
        for step in steps:
            script = step["run"].replace(INSTALL, f"python -m pip install -q --no-deps {source}")
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
