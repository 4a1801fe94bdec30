"""The ``wanmock receiver`` command: the HTTPS receiver for local development."""

from __future__ import annotations

import argparse
import signal
import sys
from typing import Any

import orjson

from mock_server.testing.receiver import Call, Receiver, Script


def add_parser(commands: Any) -> None:
    parser = commands.add_parser(
        "receiver",
        help="run an HTTPS callback receiver for local development",
        description="Serve an HTTPS receiver with a self-made CA; print its URL and CA file, "
        "then one JSON line per callback received.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address (default: 127.0.0.1)")
    parser.add_argument("--port", type=int, default=0, help="port (default: a free one)")
    parser.add_argument("--path", default="/callback", help="path of the printed URL")
    parser.add_argument("--ca-file", metavar="PEM", help="where to write the CA certificate")
    parser.add_argument("--status", type=int, default=200, help="the success status (200)")
    parser.add_argument("--fail-first", type=int, default=0, metavar="N", help="fail N first")
    parser.add_argument("--always-fail", action="store_true", help="never succeed")
    parser.add_argument("--fail-status", type=int, default=500, help="failure status (500)")
    parser.add_argument("--statuses", default="", help="answer these first, e.g. 500,503")
    parser.add_argument("--delay", type=float, default=0.0, help="seconds before each answer")


def run(args: argparse.Namespace) -> int:
    script = Script.from_json(
        {
            "status": args.status,
            "fail_first": args.fail_first,
            "always_fail": args.always_fail,
            "fail_status": args.fail_status,
            "statuses": [int(s) for s in args.statuses.split(",") if s.strip()],
            "delay": args.delay,
        }
    )

    def show(call: Call) -> None:
        line = {k: v for k, v in call.to_json().items() if k != "answered"}
        print(orjson.dumps(line).decode(), flush=True)

    receiver = Receiver(
        script, host=args.host, port=args.port, path=args.path, ca_file=args.ca_file, on_call=show
    )
    try:
        receiver.start()
    except (OSError, RuntimeError) as exc:
        print(f"wanmock receiver: cannot start: {exc}", file=sys.stderr)
        return 2
    host = receiver.host
    print(
        "\n".join(
            [
                f"wanmock receiver listening at {receiver.url}",
                f"  CA file: {receiver.ca_file}",
                f"  serve the fake with: wanmock serve --allow-callback-host {host} "
                f"--callback-ca-file {receiver.ca_file}",
                f"  record: curl -s --cacert {receiver.ca_file} "
                f"{receiver.base_url}/_receiver/calls",
            ]
        ),
        flush=True,
    )
    # SIGTERM ends it like Ctrl-C does, so the certificate files are removed either way
    signal.signal(signal.SIGTERM, lambda *_: _interrupt())
    try:
        receiver._server.join()
    except KeyboardInterrupt:
        pass
    finally:
        receiver.stop()
    return 0


def _interrupt() -> None:
    raise KeyboardInterrupt
