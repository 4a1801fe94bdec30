"""``wanmock verify-client``: client verification as a command.

    wanmock verify-client --cmd "COMMAND" [--examples N] [--seed N]
        [--junit-xml FILE] [--report-json FILE]

Only argparse at import time: the verifier (hypothesis, the fake, the receiver) loads
when the command runs, so ``wanmock serve`` does not pay for it. Exit status: 0 the
client kept the contract in every world tried, 1 a world broke it (printed, shrunk,
and written as a replayable scenario file), 2 the client could not be run.
"""

from __future__ import annotations

import argparse
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

from contracts.reports.cli import add_arguments, exit_codes

EXIT_CODES = exit_codes(
    "0  the client kept the contract in every world tried",
    "1  a world broke it (printed, shrunk, and written to --replay-file)",
    "2  bad arguments, or the client could not be run at all",
)


def _positive(kind: type[int] | type[float]) -> Any:
    def parse(text: str) -> int | float:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
        if not value > 0:
            raise argparse.ArgumentTypeError(f"must be positive, got {text!r}")
        return value

    return parse


def _count(text: str) -> int:
    if not text.isdigit():
        raise argparse.ArgumentTypeError(f"not a whole number of 0 or more: {text!r}")
    return int(text)


def add_parser(commands: Any) -> None:
    """Add the ``verify-client`` subcommand to the ``wanmock`` parser."""
    parser = commands.add_parser(
        "verify-client",
        help="check that a client of the API survives every server behaviour the contract allows",
        description="Run a client against server worlds drawn by hypothesis (timings, "
        "progress, failures, transient 429/502/503 with Retry-After, unknown fields, "
        "repeated or late callbacks) on a fresh fake each, and check it: it terminates, "
        "reports the right result, surfaces failures, sends valid requests, retries "
        "without resubmitting and tolerates extra fields. The command reads "
        "WANMOCK_BASE_URL, WANMOCK_API_KEY and WANMOCK_REQUEST (JSON) and prints one JSON "
        'line: {"status": "completed", "video_urls": [...]} or '
        '{"status": "failed", "error_code": "..."}.',
        epilog=EXIT_CODES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--cmd", required=True, metavar="COMMAND", help="the client, run by sh")
    parser.add_argument(
        "--examples", type=_positive(int), default=20, metavar="N", help="worlds to try (20)"
    )
    parser.add_argument("--seed", type=_count, default=0, metavar="N", help="search seed (0)")
    parser.add_argument(
        "--timeout",
        type=_positive(float),
        default=60.0,
        metavar="SECONDS",
        help="wall seconds one run of the client may take (60)",
    )
    parser.add_argument(
        "--max-requests",
        type=_positive(int),
        default=500,
        metavar="N",
        help="API requests one run may make before it counts as never stopping (500)",
    )
    parser.add_argument(
        "--step",
        type=_positive(float),
        default=10.0,
        metavar="SECONDS",
        help="server seconds each API request moves the fake's clock (10)",
    )
    parser.add_argument(
        "--max-retry-after",
        type=_count,
        default=1,
        metavar="SECONDS",
        help="largest Retry-After a transient error carries; a polite client really waits it (1)",
    )
    parser.add_argument(
        "--search-seconds",
        type=_positive(float),
        default=300.0,
        metavar="SECONDS",
        help="a safety net (300): the search tries --examples worlds in an order fixed by "
        "--seed, so the verdict does not depend on the machine's speed; a search cut short "
        "by this is said so in the report",
    )
    parser.add_argument(
        "--max-consecutive-failures",
        type=_positive(int),
        default=3,
        metavar="N",
        help="no world puts more failures in a row (error answers and transport faults "
        "together) on one request (3: EvoLink's own client retries a poll three times)",
    )
    parser.add_argument(
        "--tight-polls",
        type=_positive(int),
        default=3,
        metavar="N",
        help="pauses under --min-poll-interval that make tight polling, or a median under it "
        "over at least N pauses (3): one short pause on a busy machine is not enough",
    )
    parser.add_argument(
        "--shrink-seconds",
        type=_positive(float),
        default=15.0,
        metavar="SECONDS",
        help="wall seconds shrinking a failure may take (15): hypothesis, then greedy "
        "simplifications; a slow failure (a client that does not stop) is shrunk greedily, "
        "each rerun given only what reproduces it",
    )
    parser.add_argument(
        "--min-poll-interval",
        type=_positive(float),
        default=0.01,
        metavar="SECONDS",
        help="polls of a running task closer than this (wall seconds) are tight polling (0.01)",
    )
    parser.add_argument(
        "--real-base-url",
        metavar="URL",
        help="run the client once against this real endpoint, through a recording proxy on "
        "127.0.0.1, and check what one observed world shows",
    )
    parser.add_argument("--real-api-key", metavar="KEY", help="the real endpoint's API key")
    parser.add_argument(
        "--allow-spend",
        type=Decimal,
        default=None,
        metavar="CREDITS",
        help="with --real-base-url: refuse a request that may cost more, stop the run once "
        "the credits reserved reach this",
    )
    parser.add_argument(
        "--request",
        type=json.loads,
        default=None,
        metavar="JSON",
        help="with --real-base-url: the create body handed to the client",
    )
    parser.add_argument(
        "--replay-file",
        type=Path,
        default=Path("wanmock-client-failure.json"),
        metavar="FILE",
        help="where the failing world's scenario rules go (its journal goes beside it, "
        "as FILE.journal.json)",
    )
    add_arguments(parser)


def run(args: argparse.Namespace) -> int:
    """Verify the command with the parsed arguments; the exit status."""
    from contracts.client.options import Options
    from contracts.client.report import ClientReport
    from contracts.client.runner import CommandClient
    from contracts.client.verify import verify_client

    if args.real_base_url:
        from contracts.client.real import verify_real

        if not args.real_api_key or args.allow_spend is None:
            print("--real-base-url needs --real-api-key and --allow-spend")
            return 2
        return verify_real(
            CommandClient(args.cmd),
            args.real_base_url,
            args.real_api_key,
            args.allow_spend,
            args.request,
            timeout=args.timeout if args.timeout != 60.0 else 900.0,
            max_requests=args.max_requests,
            min_poll_interval=args.min_poll_interval,
            tight_polls=args.tight_polls,
        ).status
    options = Options(
        examples=args.examples,
        seed=args.seed,
        timeout=args.timeout,
        max_requests=args.max_requests,
        step=args.step,
        max_retry_after=args.max_retry_after,
        shrink_seconds=args.shrink_seconds,
        search_seconds=args.search_seconds,
        min_poll_interval=args.min_poll_interval,
        tight_polls=args.tight_polls,
        max_consecutive_failures=args.max_consecutive_failures,
        replay_file=args.replay_file,
    )
    report = ClientReport()
    result = verify_client(CommandClient(args.cmd), options, report)
    write_reports(report, args, result)
    return result.status


def write_reports(report: Any, args: argparse.Namespace, result: Any) -> None:
    """``--junit-xml`` and ``--report-json``, from what the report printed."""
    from contracts.reports import write
    from contracts.reports.cli import shown_options
    from mock_server import __version__

    if args.junit_xml is None and args.report_json is None:
        return
    record = report.client_record(__version__, shown_options(args), result, args.replay_file)
    write(record, args.junit_xml, args.report_json)
