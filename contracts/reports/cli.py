"""The report flags both verifiers take, and what of their options a report may show."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any, Final

#: Options never written into a report (CI keeps reports as artifacts).
SECRETS: Final = frozenset({"api_key", "control_token", "real_api_key"})


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """``--junit-xml FILE`` and ``--report-json FILE``."""
    parser.add_argument(
        "--junit-xml",
        type=Path,
        metavar="FILE",
        help="also write the report as JUnit XML (one testsuite per section, one testcase "
        "per check), for CI systems to show",
    )
    parser.add_argument(
        "--report-json",
        type=Path,
        metavar="FILE",
        help="also write the report as JSON: every check with its status, evidence and "
        "source, the totals, the tool's version and options",
    )


def shown_options(args: argparse.Namespace) -> dict[str, Any]:
    """The parsed options as plain data, secrets masked, paths and numbers as text."""
    shown: dict[str, Any] = {}
    for name, value in sorted(vars(args).items()):
        if name in ("command", "handler"):
            continue
        if name in SECRETS and value:
            value = "***"
        elif value is not None and not isinstance(value, bool | int | float | str):
            value = str(value)
        shown[name] = value
    return shown


def exit_codes(*lines: str) -> str:
    """An ``--help`` epilog listing the exit statuses."""
    return "exit status:\n" + "\n".join(f"  {line}" for line in lines)
