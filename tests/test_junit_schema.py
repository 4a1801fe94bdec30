"""Both verifiers' ``--junit-xml`` files are valid against ``junit-10.xsd``, the JUnit
schema pytest keeps in its repository (``testing/example_scripts/junit-10.xsd``) and CI
reporters follow.

The schema is not ours to write, so it is read from ``tests/schemas/junit-10.xsd``, a
verbatim copy of pytest's file (MIT, its header kept). Without the file the tests skip,
and fail under CI=true, as the browser and PostgreSQL tests do without their programs.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import pytest
import xmlschema

from contracts.reports.junit import junit_tree
from contracts.reports.run_record import Entry, RunRecord
from tests.providers import serving
from tests.test_reports import EXAMPLE, both_broken, verify_provider, wanmock

SCHEMA_FILE = Path(__file__).parent / "schemas" / "junit-10.xsd"


@pytest.fixture(scope="module")
def schema() -> xmlschema.XMLSchema:
    if not SCHEMA_FILE.exists():
        missing = f"{SCHEMA_FILE} is missing: copy pytest's testing/example_scripts/junit-10.xsd"
        if os.environ.get("CI") == "true":
            pytest.fail(missing)
        pytest.skip(missing)
    return xmlschema.XMLSchema(str(SCHEMA_FILE))


def every_kind_of_entry() -> list[Entry]:
    violation = {"check": "x_holds", "source": "[Q]", "message": "x broke", "text": "[x_holds] x"}
    return [
        Entry("A", "passes", "passed", "with a detail"),
        Entry("A", "skips", "skipped", "why not"),
        Entry("B", "fails", "failed", "", (violation,)),
    ]


def test_junit_schema_accepts_every_kind_of_case(schema: xmlschema.XMLSchema) -> None:
    options: dict[str, Any] = {"examples": 3, "cmd": "python client.py", "flag": None}
    record = RunRecord("verify-client", "0.2.0", options, every_kind_of_entry(), 1)
    schema.validate(junit_tree(record).getroot())


def test_junit_schema_accepts_verify_provider_file(
    schema: xmlschema.XMLSchema, tmp_path: Path
) -> None:
    with serving(both_broken) as base_url:
        result = verify_provider(base_url, tmp_path)
    assert result.returncode == 1, result.stdout + result.stderr
    schema.validate(str(tmp_path / "out" / "provider.xml"))


def test_junit_schema_accepts_verify_client_file(
    schema: xmlschema.XMLSchema, tmp_path: Path
) -> None:
    result = wanmock(
        "verify-client", "--cmd", f"RETRIES=0 POLL_SECONDS=0.05 {sys.executable} {EXAMPLE}",
        "--examples", "4", "--shrink-seconds", "1", "--max-retry-after", "0", "--seed", "1",
        "--replay-file", tmp_path / "failure.json", "--junit-xml", tmp_path / "client.xml",
    )  # fmt: skip
    assert result.returncode in (0, 1), result.stdout + result.stderr
    schema.validate(str(tmp_path / "client.xml"))
