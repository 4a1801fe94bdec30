"""Machine-readable reports of a verification run, for CI: JUnit XML and JSON.

Both are written from one neutral ``RunRecord`` (``record.py``) that the verifiers'
printed reports fill line by line, so the printed report, the XML and the JSON match one
for one. ``write(record, junit_xml=..., report_json=...)`` writes whichever is asked for.
"""

from __future__ import annotations

from pathlib import Path

from contracts.reports.json_report import write_json
from contracts.reports.junit import write_junit
from contracts.reports.run_record import Entry, RunRecord

__all__ = ["Entry", "RunRecord", "write", "write_json", "write_junit"]


def write(
    record: RunRecord, junit_xml: Path | None = None, report_json: Path | None = None
) -> None:
    """Write the JUnit XML and/or JSON report of ``record``."""
    if junit_xml is not None:
        write_junit(record, junit_xml)
    if report_json is not None:
        write_json(record, report_json)
