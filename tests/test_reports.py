"""``--junit-xml`` and ``--report-json``: the printed report, the XML and the JSON match
one for one, for both verifiers, passing and failing."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

from contracts.reports.junit import junit_tree
from contracts.reports.run_record import Entry, RunRecord
from tests.providers import serving
from tests.test_verify_provider import plain_text_404, rewriting, wrong_402_type

KEY = "sk-wanmock-test"
MARK = {"✓": "passed", "✗": "failed", "-": "skipped"}
LINE = re.compile(r"^  ([✓✗-]) (.+?)(?: — (.*))?$")
ENDS = ("Contract violations found", "The provider keeps", "The client ")
EXAMPLE = Path(__file__).parent.parent / "examples" / "polling_client.py"


def wanmock(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mock_server", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=120,
    )


def printed(out: str) -> list[tuple[str, str, str]]:
    """``(section, name, status)`` of every judged line the report printed, in order."""
    found, section = [], "Run"
    for text in out.splitlines():
        if text.startswith(ENDS):
            break
        if text and not text.startswith(" ") and not text.startswith("Verifying"):
            section = text
        match = LINE.match(text)
        if match:
            found.append((section, match.group(2), MARK[match.group(1)]))
    return found


def printed_totals(out: str) -> dict[str, int]:
    [end] = [line for line in out.splitlines() if line.startswith(ENDS)]
    last = re.search(r"(\d+) passed, (\d+) failed, (\d+) skipped", end)
    assert last, out
    passed, failed, skipped = map(int, last.groups())
    return {
        "total": passed + failed + skipped,
        "passed": passed,
        "failed": failed,
        "skipped": skipped,
    }


def junit_cases(path: Path) -> list[tuple[str, str, str, ET.Element | None]]:
    root = ET.parse(path).getroot()
    assert root.tag == "testsuites"
    cases = []
    for suite in root.findall("testsuite"):
        for case in suite.findall("testcase"):
            failure, skipped = case.find("failure"), case.find("skipped")
            status = (
                "failed" if failure is not None else "skipped" if skipped is not None else "passed"
            )
            cases.append((suite.get("name", ""), case.get("name", ""), status, failure))
    return cases


def json_checks(path: Path) -> tuple[dict[str, Any], list[tuple[str, str, str]]]:
    report = json.loads(path.read_text())
    checks = [(s["name"], c["name"], c["status"]) for s in report["sections"] for c in s["checks"]]
    return report, checks


def verify_provider(base_url: str, tmp_path: Path, *flags: str) -> subprocess.CompletedProcess[str]:
    return wanmock(
        "verify-provider", "--base-url", base_url, "--api-key", KEY, "--poll-interval", "0.01",
        "--junit-xml", tmp_path / "out" / "provider.xml",
        "--report-json", tmp_path / "out" / "provider.json",
        *flags,
    )  # fmt: skip


def both_broken(app: Any, fake: Any) -> Any:
    return rewriting(answer=lambda a: (plain_text_404(a), wrong_402_type(a)))(app, fake)


def test_reports_provider_junit_matches_the_printed_report_one_for_one(tmp_path: Path) -> None:
    with serving(both_broken) as base_url:
        result = verify_provider(base_url, tmp_path, "--allow-spend", "10")
    assert result.returncode == 1, result.stdout + result.stderr
    lines = printed(result.stdout)
    cases = junit_cases(tmp_path / "out" / "provider.xml")
    assert [c[:3] for c in cases] == lines
    failures = [c[3] for c in cases if c[3] is not None]
    assert len(failures) == sum(1 for line in lines if line[2] == "failed") >= 2
    for failure in failures:
        message, body = failure.get("message", ""), failure.text or ""
        assert re.search(r"\w+ \(contracts/SOURCES\.md \[[A-Z-]+\]", message), message
        assert body.startswith("[") and "source: contracts/SOURCES.md" in body
    assert any("error_is_json" in (f.get("message") or "") for f in failures)
    root = ET.parse(tmp_path / "out" / "provider.xml").getroot()
    assert root.get("failures") == str(len(failures))
    assert root.get("tests") == str(len(lines)) and any(c[2] == "skipped" for c in cases)


def test_reports_provider_json_matches_the_printed_report(tmp_path: Path) -> None:
    with serving(both_broken) as base_url:
        result = verify_provider(base_url, tmp_path)
    assert result.returncode == 1
    report, checks = json_checks(tmp_path / "out" / "provider.json")
    assert checks == printed(result.stdout)
    assert report["totals"] == printed_totals(result.stdout)
    assert report["tool"] == "verify-provider" and report["exit_status"] == 1
    assert re.fullmatch(r"\d+\.\d+\.\d+.*", report["version"])
    assert report["options"]["api_key"] == "***" and report["options"]["base_url"] == base_url
    failed = [c for s in report["sections"] for c in s["checks"] if c["status"] == "failed"]
    for check in failed:
        for violation in check["violations"]:
            assert violation["check"] and violation["source"] and "evidence" in violation
    assert KEY not in (tmp_path / "out" / "provider.json").read_text()


def test_reports_provider_passing_run_writes_both_reports(tmp_path: Path) -> None:
    with serving() as base_url:
        result = verify_provider(base_url, tmp_path)
    assert result.returncode == 0, result.stdout
    report, checks = json_checks(tmp_path / "out" / "provider.json")
    assert (
        checks
        == printed(result.stdout)
        == [c[:3] for c in junit_cases(tmp_path / "out" / "provider.xml")]
    )
    assert report["totals"]["failed"] == 0 and report["exit_status"] == 0


def test_reports_client_junit_and_json_match_the_printed_report(tmp_path: Path) -> None:
    replay = tmp_path / "failure.json"
    result = wanmock(
        "verify-client", "--cmd", f"RETRIES=0 POLL_SECONDS=0.05 {sys.executable} {EXAMPLE}",
        "--examples", "10", "--shrink-seconds", "2", "--max-retry-after", "0",
        "--replay-file", replay, "--junit-xml", tmp_path / "client.xml",
        "--report-json", tmp_path / "client.json",
    )  # fmt: skip
    assert result.returncode == 1, result.stdout + result.stderr
    lines = printed(result.stdout)
    assert [c[:3] for c in junit_cases(tmp_path / "client.xml")] == lines
    report, checks = json_checks(tmp_path / "client.json")
    assert checks == lines
    assert {s for s, _, _ in lines} == {"Examples", "Properties"}
    assert report["totals"] == printed_totals(result.stdout)
    assert "client_retries_transient_errors" in {
        v["check"] for s in report["sections"] for c in s["checks"] for v in c["violations"]
    }
    searched = [w for w in report["worlds"] if w["phase"] == "search"]
    assert len(searched) == report["examples"] == sum(1 for s, _, _ in lines if s == "Examples")
    assert len(report["worlds"]) == report["examples"] + report["shrinks"]
    assert report["shrunk"]["broke"] and report["shrunk"]["rules"]
    assert report["replay_file"] == str(replay) and replay.exists()
    assert json.loads(replay.read_text()) == report["shrunk"]["rules"]


def test_reports_junit_marks_skipped_and_failed_checks() -> None:
    violation = {"check": "x_holds", "source": "[Q]", "message": "x broke", "text": "[x_holds] x"}
    record = RunRecord(
        "verify-provider",
        "0.1.0",
        {},
        [Entry("A", "one", "skipped", "why not"), Entry("A", "two", "failed", "", (violation,))],
        1,
    )
    root = junit_tree(record).getroot()
    [suite] = root.findall("testsuite")
    assert (
        suite.get("tests") == "2" and suite.get("skipped") == "1" and suite.get("failures") == "1"
    )
    assert root.find(".//skipped").get("message") == "why not"  # type: ignore[union-attr]
    failure = root.find(".//failure")
    assert failure is not None and failure.text == "[x_holds] x"
    assert failure.get("message") == "x_holds (contracts/SOURCES.md [Q]): x broke"


def test_reports_verifiers_document_their_exit_codes_in_help() -> None:
    for command in ("verify-provider", "verify-client"):
        text = wanmock(command, "--help").stdout
        assert "exit status:" in text and "--junit-xml" in text and "--report-json" in text
        assert re.search(r"^  0 .*\n  1 .*\n  2 ", text, re.M), text
