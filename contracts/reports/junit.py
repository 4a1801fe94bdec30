"""JUnit XML as CI systems render it, written with the standard library's ElementTree.

One ``<testsuite>`` per printed section, one ``<testcase>`` per judged line; a failed
line is a ``<failure>`` whose ``message`` names each broken check and its SOURCES.md key
and whose body is the evidence as printed; a skipped line is ``<skipped>`` with its
reason. The root ``<testsuites>`` carries the totals; each ``<testsuite>`` carries its own
and, as ``<properties>``, the tool's version and options. That is the shape of pytest's
``junit-10.xsd``, which CI reporters follow: ``<testsuites>`` holds only suites and has
no ``skipped`` count, so the properties and skip counts live on the suites.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

from contracts.reports.run_record import Entry, RunRecord


def _counts(element: ET.Element, totals: dict[str, int], seconds: float) -> None:
    element.set("tests", str(totals["total"]))
    element.set("failures", str(totals["failed"]))
    element.set("errors", "0")
    if element.tag == "testsuite":  # the schema gives <testsuites> no skipped count
        element.set("skipped", str(totals["skipped"]))
    element.set("time", f"{seconds:.3f}")


def _properties(suite: ET.Element, record: RunRecord) -> None:
    properties = ET.SubElement(suite, "properties")
    values = {"tool": record.tool, "version": record.version, "exit_status": record.exit_status}
    values.update({f"option.{k}": v for k, v in record.options.items()})
    for name, value in values.items():
        text = value if isinstance(value, str) else json.dumps(value, default=str)
        ET.SubElement(properties, "property", name=name, value=text)


def _case(suite: ET.Element, classname: str, entry: Entry) -> None:
    case = ET.SubElement(suite, "testcase", classname=classname, name=entry.name)
    case.set("time", f"{entry.seconds:.3f}")
    if entry.status == "failed":
        checks = " ".join(str(v["check"]) for v in entry.violations) or "failed"
        failure = ET.SubElement(case, "failure", message=entry.message, type=checks)
        failure.text = entry.evidence
    elif entry.status == "skipped":
        ET.SubElement(case, "skipped", message=entry.detail or "skipped")
    if entry.detail and entry.status != "skipped":
        ET.SubElement(case, "system-out").text = entry.detail


def junit_tree(record: RunRecord) -> ET.ElementTree:
    """The run as a JUnit ``<testsuites>`` document."""
    root = ET.Element("testsuites", name=f"wanmock {record.tool}")
    _counts(root, record.totals(), record.seconds)
    for title, entries in record.sections():
        suite = ET.SubElement(root, "testsuite", name=title)
        _counts(suite, record.totals(entries), sum(e.seconds for e in entries))
        _properties(suite, record)
        classname = f"wanmock.{record.tool}.{title}"
        for entry in entries:
            _case(suite, classname, entry)
    ET.indent(root)
    return ET.ElementTree(root)


def write_junit(record: RunRecord, path: Path) -> None:
    """Write ``record`` to ``path`` as JUnit XML (UTF-8, with an XML declaration)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    junit_tree(record).write(path, encoding="utf-8", xml_declaration=True)
