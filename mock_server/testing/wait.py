"""``wanmock wait``: block until a fake answers, so a CI step can start ``wanmock serve``
in the background and go on only once it serves.

Ready means ``GET /_mock/health`` answered 200 (with ``--control-token`` when the fake
has one). Connection errors and other statuses are retried every ``--interval`` until
``--timeout``; a refused control token ends the wait at once, since waiting cannot fix
it. Progress goes to stderr, about once a second.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

import httpx

from mock_server.runtime.clock import monotonic, pause

READY, TIMED_OUT, REFUSED = 0, 1, 2
EXIT_CODES = """exit status:
  0  the fake answered GET /_mock/health with 200
  1  it did not within --timeout (the last error is printed)
  2  bad arguments, or the fake refused the control token (401/403)"""


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be positive, got {text!r}")
    return value


def add_parser(commands: Any) -> None:
    """Add the ``wait`` subcommand to the ``wanmock`` parser."""
    parser = commands.add_parser(
        "wait",
        help="wait until a fake answers GET /_mock/health (for CI)",
        description="Wait until the fake at --url answers GET /_mock/health with 200; "
        "progress goes to stderr.",
        epilog=EXIT_CODES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--url",
        default=os.environ.get("WANMOCK_URL", "http://127.0.0.1:8080"),
        help="the fake's base URL (default: http://127.0.0.1:8080) [env WANMOCK_URL]",
    )
    parser.add_argument(
        "--timeout",
        type=_seconds,
        default=30.0,
        metavar="SECONDS",
        help="give up after this many seconds (default: 30)",
    )
    parser.add_argument(
        "--interval",
        type=_seconds,
        default=0.1,
        metavar="SECONDS",
        help="pause between tries (default: 0.1)",
    )
    parser.add_argument(
        "--control-token",
        default=os.environ.get("WANMOCK_CONTROL_TOKEN"),
        metavar="TOKEN",
        help="the fake's control token, if it has one [env WANMOCK_CONTROL_TOKEN]",
    )


def run(args: argparse.Namespace) -> int:
    """Wait as asked; the exit status."""
    url = f"{args.url.rstrip('/')}/_mock/health"
    headers = {"Authorization": f"Bearer {args.control_token}"} if args.control_token else {}
    started = monotonic()
    deadline = started + args.timeout
    shown = started
    last = "no answer yet"
    with httpx.Client(headers=headers) as client:
        while True:
            left = deadline - monotonic()
            if left <= 0:
                break
            try:
                answer = client.get(url, timeout=max(0.05, min(left, 2.0)))
                status = answer.status_code
            except httpx.HTTPError as exc:
                status, last = 0, f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
            if status == 200:
                print(
                    f"wanmock wait: {url} ready after {monotonic() - started:.1f} s",
                    file=sys.stderr,
                )
                return READY
            if status in (401, 403):
                print(
                    f"wanmock wait: {url} answered {status}: the fake wants its control token "
                    "(--control-token or WANMOCK_CONTROL_TOKEN)",
                    file=sys.stderr,
                )
                return REFUSED
            if status:
                last = f"HTTP {status}"
            now = monotonic()
            if now - shown >= 1.0:
                shown = now
                print(
                    f"wanmock wait: waiting for {url} ({last}), {now - started:.0f} s of "
                    f"{args.timeout:g}",
                    file=sys.stderr,
                )
            pause(min(args.interval, max(0.0, deadline - monotonic())))
    print(
        f"wanmock wait: {url} did not answer 200 within {args.timeout:g} s (last: {last})",
        file=sys.stderr,
    )
    return TIMED_OUT
