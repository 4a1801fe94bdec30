"""The examples of the README and the docs pages (docs/*.md), run as written (with the
port the test server got). tests/test_docs.py checks that every shell and Python example
is run by a test here or elsewhere, or says why it cannot be."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from mock_server import __version__
from tests.server import running

ROOT = Path(__file__).parent.parent
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
README = (ROOT / "README.md").read_text()
needs_curl = pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed")
GETTING_STARTED = "docs/getting-started.md"
HEADING = re.compile(r"^(#{1,4}) (.+)$", re.M)


def headings(text: str) -> list[re.Match[str]]:
    """The headings of a markdown text, outside fenced code."""
    fenced = [m.span() for m in re.finditer(r"^```.*?^```", text, re.M | re.S)]
    return [h for h in HEADING.finditer(text) if not any(a <= h.start() < b for a, b in fenced)]


def section(title: str, page: str | None = None) -> str:
    """The section headed ``title`` of README.md or the first docs page that has one (or of
    ``page``, a path from the repository root), up to the next heading of its level or
    above (a page's title heads the whole page)."""
    for path in [ROOT / page] if page else PAGES:
        text = path.read_text()
        found = headings(text)
        for i, heading in enumerate(found):
            if heading.group(2).strip() != title:
                continue
            level = len(heading.group(1))
            ends = [h.start() for h in found[i + 1 :] if len(h.group(1)) <= level]
            return text[heading.start() : ends[0] if ends else None]
    raise LookupError(f"no section {title!r} in {page or 'README.md or docs/*.md'}")


def blocks(text: str, language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", text, re.S)


def shell(command: str, base_url: str) -> str:
    command = command.replace("http://127.0.0.1:8080", base_url)
    return subprocess.run(
        ["bash", "-c", command], capture_output=True, text=True, check=True, timeout=30
    ).stdout


def commands(block: str) -> list[str]:
    """Shell commands of a block: continuation lines joined, comments dropped."""
    joined = re.sub(r"\\\n", " ", block)
    found, current = [], ""
    for line in joined.splitlines():
        if line.startswith("#") or not line.strip():
            continue
        if current and not line.startswith(" "):
            found.append(current)
            current = ""
        current += line.split("  # ")[0] + "\n"
    return [*found, current] if current else found


@needs_curl
def test_readme_tour_works_as_written() -> None:
    tour = blocks(section("A 30-second tour"), "sh")
    assert "--clock virtual --db :memory:" in tour[0]
    with running("--clock", "virtual") as server:
        created = json.loads(shell(commands(tour[1])[0], server.base_url))
        assert created["status"] == "pending"
        example_id = re.search(r"task-unified-\d+-[a-z0-9]{8}", tour[2]).group(0)  # type: ignore[union-attr]
        polled = json.loads(shell(tour[2].replace(example_id, created["id"]), server.base_url))
        assert polled["id"] == created["id"]
        advance, poll = commands(tour[3])
        shell(advance, server.base_url)
        done = json.loads(shell(poll.replace(example_id, created["id"]), server.base_url))
        assert done["status"] == "completed" and done["results"]
        ledger = json.loads(shell(tour[4], server.base_url))
        assert [e["kind"] for e in ledger["entries"]] == ["grant", "reserve", "release", "charge"]


@needs_curl
def test_readme_scenario_examples_work_as_written() -> None:
    examples = section("Scenarios: make the fake misbehave on purpose")
    with running("--clock", "virtual") as server:
        for block in blocks(examples, "sh"):
            for command in commands(block):
                answer = shell(command, server.base_url)
                assert '"code":5' not in answer, (command, answer)
        rules = server.client.get("/_mock/scenarios").json()["rules"]
        # The README's DELETE removed the posted rules; its token example left one.
        assert [r["source"] for r in rules] == ["token"]


def test_readme_pytest_example_passes(pytester: pytest.Pytester) -> None:
    [example] = blocks(section("Use it from pytest"), "python")
    pytester.makepyfile(test_readme_example=example)
    pytester.runpytest_subprocess("-p", "no:cacheprovider").assert_outcomes(passed=3)


def test_readme_landing_page_test_passes(pytester: pytest.Pytester) -> None:
    [example] = blocks(section("In a test"), "python")
    pytester.makepyfile(test_landing_example=example)
    pytester.runpytest_subprocess("-p", "no:cacheprovider").assert_outcomes(passed=1)


def test_readme_getting_started_checks_the_installed_version() -> None:
    [check] = commands(blocks(section("Install", GETTING_STARTED), "sh")[0])
    shown = subprocess.run(
        ["bash", "-c", check],
        capture_output=True,
        text=True,
        env={
            **os.environ,
            "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
        },
    )
    assert shown.stdout.strip() == f"wanmock {__version__}", shown.stderr


def test_readme_install_names_the_wheel_make_dist_builds() -> None:
    wheel = f"dist/wanmock-{__version__}-py3-none-any.whl"
    for text in (section("Install", GETTING_STARTED), section("Install", "README.md")):
        assert f"pip install {wheel}" in text
        assert "pip install wanmock" in text and "git+<your clone>" in text
    assert re.search(r"^dist: ", (ROOT / "Makefile").read_text(), re.M)


def test_readme_getting_started_server_starts_as_written() -> None:
    [command] = commands(blocks(section("Start the fake"), "sh")[0])
    flags = command.split("wanmock serve", 1)[1].split()
    port = flags.index("--port")
    with running(*flags[:port], *flags[port + 2 :]) as server:
        assert server.client.get("/_mock/clock").json()["mode"] == "virtual"


def test_readme_price_overrides_load_as_written(tmp_path: Path) -> None:
    from mock_server.runtime.config import load_config

    [toml] = blocks(section("Flags of `wanmock serve`"), "toml")
    (tmp_path / "wanmock.toml").write_text(toml)
    config = load_config({}, env={}, config_file=str(tmp_path / "wanmock.toml"))
    assert config.clock == "virtual" and len(config.keys) == 2


def test_readme_verify_client_examples_work_as_written(tmp_path: Path) -> None:
    passing, failing, replay = (commands(b)[0] for b in blocks(section("Verify a client"), "sh"))
    shutil.copytree(Path(__file__).parent.parent / "examples", tmp_path / "examples")
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}

    def run(command: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["bash", "-c", command],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=90,
        )

    kept = run(passing)
    assert kept.returncode == 0, kept.stdout + kept.stderr
    assert "The client keeps the contract" in kept.stdout
    broken = run(failing)
    assert broken.returncode == 1, broken.stdout + broken.stderr
    assert "the client gave up after a transient" in broken.stdout
    assert json.loads((tmp_path / "wanmock-client-failure.json").read_text())
    assert (tmp_path / "wanmock-client-failure.journal.json").exists()
    args = replay.split()[2:]  # after "wanmock serve"
    args[args.index("--scenarios") + 1] = str(tmp_path / "wanmock-client-failure.json")
    db = args.pop(args.index("--db") + 1)
    args.remove("--db")
    with running(*args, db=db) as server:
        rules = server.client.get("/_mock/scenarios").json()["rules"]
        assert rules and {r["source"] for r in rules} == {"file"}


@needs_curl
def test_readme_two_servers_on_one_store_share_the_clock(tmp_path: Path) -> None:
    from mock_server.testing.embedded import free_port

    block = blocks(section("One fake, several processes"), "sh")[1]
    ports = {"8080": str(free_port()), "8081": str(free_port())}
    script = re.sub(r"\b(8080|8081)\b", lambda m: ports[m.group(1)], block)
    script = script.replace("wanmock serve", f"{sys.executable} -m mock_server serve")
    script = "trap 'kill $(jobs -p)' EXIT\n" + script
    out = subprocess.run(
        ["bash", "-c", script], capture_output=True, text=True, timeout=180, cwd=tmp_path
    ).stdout
    moved, seen = (json.loads(found) for found in re.findall(r'\{"mode"[^{}]*\}', out))
    assert seen == moved and seen["mode"] == "virtual"


@needs_curl
def test_readme_media_upload_example_works_as_written(tmp_path: Path) -> None:
    from mock_server.media.references import probe_file

    [block] = blocks(section("Real media: uploads, references, playable results"), "sh")
    serve, script = block.split("# in another terminal:\n")
    assert 'ARGS="--clock virtual --db :memory:"' in serve
    *steps, show_ledger = script.replace(".venv/bin/python", sys.executable).splitlines()
    with running("--clock", "virtual", "--media-dir", str(tmp_path / "media")) as server:
        shell(f"set -e\ncd {tmp_path}\n" + "\n".join(steps), server.base_url)
        ledger = shell(show_ledger, server.base_url)
    probe = probe_file(tmp_path / "result.mp4")
    assert (probe.width, probe.height, probe.seconds) == (1080, 1920, 4)
    assert (probe.video_codec, probe.audio_codec) == ("h264", "aac")
    [charge] = [e for e in json.loads(ledger)["entries"] if e["kind"] == "charge"]
    # the probed 4 s of input plus 4 s of output, at 4.76 credits/s and x1.67 for 1080p
    assert charge["amount"] == "63.59"


@needs_curl
def test_readme_control_api_paging_example_works_as_written() -> None:
    from tests.conftest import BODY

    [block] = blocks(section("Control API"), "sh")
    first, cursor, then = commands(block)
    with running("--clock", "virtual") as server:
        for n in range(5):
            server.client.post(
                "/v1/videos/generations",
                json={**BODY, "prompt": f"task {n}"},
                headers={"Authorization": "Bearer sk-wanmock-test"},
            ).raise_for_status()
        page = json.loads(shell(first, server.base_url))
        following = json.loads(shell(cursor + then, server.base_url))
    assert len(page["tasks"]) == len(following["tasks"]) == 2
    ids = [{t["task"]["id"] for t in listed["tasks"]} for listed in (page, following)]
    assert ids[0].isdisjoint(ids[1])
    assert "$CURSOR" in then


@needs_curl
def test_readme_callbacks_example_works_as_written(tmp_path: Path) -> None:
    [text] = blocks(section("Callbacks"), "sh")
    start, rest = text.split("make serve ", 1)
    serve, script = rest.split("# in another terminal, in the same directory:\n")
    start = start.replace(".venv/bin/wanmock", str(Path(sys.executable).parent / "wanmock"))
    receiver = subprocess.Popen(
        ["bash", "-c", start],
        cwd=tmp_path,
        start_new_session=True,  # the receiver stays
    )
    try:
        assert receiver.wait(timeout=30) == 0
        ca_file = (tmp_path / "receiver.log").read_text().splitlines()[1].split()[-1]
        args = serve.split('"')[1].replace("$CA_FILE", ca_file).split()
        with running(*args) as server:
            out = shell(f"set -e\ncd {tmp_path}\n{script}", server.base_url)
    finally:
        os.killpg(receiver.pid, signal.SIGTERM)
    delivery = json.loads(out[out.index('{"callbacks"') :])
    assert [d["state"] for d in delivery["callbacks"]] == ["delivered"]
    assert [a["status"] for a in delivery["attempts"]] == [500, 500, 200]
