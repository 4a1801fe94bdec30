"""The run as one JSON document: every check with its status, evidence and source,
the totals, the tool's version and options, and whatever the tool adds (verify-client:
every world tried, the shrunk world and the replay file)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from contracts.reports.run_record import RunRecord

FORMAT = 1  # bumped when a field changes meaning


def report_json(record: RunRecord) -> dict[str, Any]:
    """The run as plain data, in the order the report printed it."""
    return {
        "format": FORMAT,
        "tool": record.tool,
        "version": record.version,
        "options": dict(record.options),
        "exit_status": record.exit_status,
        "seconds": round(record.seconds, 3),
        "totals": record.printed_totals(),  # as the printed report's last line says
        "all_totals": record.totals(),  # every entry: verify-client adds its worlds
        "sections": [
            {
                "name": title,
                "totals": record.totals(entries),
                "checks": [
                    {
                        "name": e.name,
                        "status": e.status,
                        "detail": e.detail,
                        "seconds": round(e.seconds, 3),
                        "counted": e.counted,
                        "violations": [dict(v) for v in e.violations],
                    }
                    for e in entries
                ],
            }
            for title, entries in record.sections()
        ],
        **record.extra,
    }


def write_json(record: RunRecord, path: Path) -> None:
    """Write ``record`` to ``path`` as indented JSON (values JSON lacks become strings)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(report_json(record), indent=2, ensure_ascii=False, default=str)
    path.write_text(text + "\n", encoding="utf-8")
