"""``wanmock verify-provider``: the provider suite as a command.

    wanmock verify-provider --base-url URL --api-key KEY [--allow-spend CREDITS] [--record DIR]
        [--junit-xml FILE] [--report-json FILE]

Free checks only by default; ``--allow-spend`` lets it create real, paid tasks up to
that many credits. Exit status: 0 all checks kept the contract, 1 a violation (printed
with its evidence), 2 bad arguments or an unreachable provider.
"""

from __future__ import annotations

import argparse
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from contracts.reports.cli import add_arguments, exit_codes

EXIT_CODES = exit_codes(
    "0  every check kept the contract (skipped checks do not count against it)",
    "1  a check found a violation (printed with its evidence and SOURCES.md key)",
    "2  bad arguments, or the provider could not be reached",
)


def credits(text: str) -> Decimal:
    """A non-negative number of credits."""
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise argparse.ArgumentTypeError(f"not a number of credits: {text!r}") from None
    if not value.is_finite() or value < 0:
        raise argparse.ArgumentTypeError(f"credits must be 0 or more, got {text!r}")
    return value


def seconds(text: str) -> float:
    """A positive number of seconds."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be positive, got {text!r}")
    return value


def add_parser(commands: Any) -> None:
    """Add the ``verify-provider`` subcommand to the ``wanmock`` parser."""
    parser = commands.add_parser(
        "verify-provider",
        help="check that a server (the real API, or a fake) keeps the API's contract",
        description="Check any server claiming to be EvoLink's Wan2.6 API. Free checks by "
        "default (auth, every validation rule, task ids, file service, response shapes); "
        "--allow-spend also runs real generations and checks lifecycle, results and billing.",
        epilog=EXIT_CODES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--base-url", required=True, help="e.g. https://api.evolink.ai")
    parser.add_argument("--api-key", required=True, help="the key to call it with")
    parser.add_argument(
        "--allow-spend",
        type=credits,
        default=Decimal(0),
        metavar="CREDITS",
        help="credits real generations may cost (default 0: free checks only)",
    )
    parser.add_argument(
        "--record",
        type=Path,
        metavar="DIR",
        help="save every answer, secrets scrubbed, into DIR "
        "(e.g. fixtures/recorded/) for the drift test",
    )
    parser.add_argument(
        "--files-url",
        metavar="URL",
        help="the file service (default: files-api.evolink.ai for the real API, else the base URL)",
    )
    parser.add_argument(
        "--control-token",
        metavar="TOKEN",
        help="wanmock's control token, if the provider is a fake that has one",
    )
    parser.add_argument(
        "--poll-interval",
        type=seconds,
        default=3.0,
        metavar="SECONDS",
        help="wall seconds between polls of a task (default 3)",
    )
    parser.add_argument(
        "--timeout",
        type=seconds,
        default=900.0,
        metavar="SECONDS",
        help="wall seconds the generations may take in all (default 900)",
    )
    parser.add_argument(
        "--reference-file",
        type=Path,
        metavar="PATH",
        help="a reference video (mp4/mov, 2-30 s) to upload instead of the rendered test clip",
    )
    add_arguments(parser)


def run(args: argparse.Namespace) -> int:
    """Run the suite with the parsed arguments; the exit status."""
    import asyncio

    from contracts.provider import verify_async
    from contracts.provider.http import Options
    from contracts.provider.report import Report
    from contracts.reports import write
    from contracts.reports.cli import shown_options
    from mock_server import __version__

    options = Options(
        base_url=args.base_url,
        api_key=args.api_key,
        allow_spend=args.allow_spend,
        record=args.record,
        files_url=args.files_url,
        control_token=args.control_token,
        poll_interval=args.poll_interval,
        timeout=args.timeout,
        reference_file=args.reference_file,
    )
    report = Report()
    status = asyncio.run(verify_async(options, report))
    record = report.record("verify-provider", __version__, shown_options(args), status)
    write(record, args.junit_xml, args.report_json)
    return status
