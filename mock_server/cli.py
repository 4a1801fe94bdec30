"""The ``wanmock`` command."""

from __future__ import annotations

import argparse
import socket
import sys
import time
from collections.abc import Sequence
from typing import Any

from contracts.client import cli as client_cli
from contracts.provider import cli as verify_cli
from mock_server import __version__
from mock_server.runtime.config import Config, load_config
from mock_server.runtime.settings import SETTINGS, ConfigError, parse_bool
from mock_server.testing import receiver_cli, wait


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="wanmock",
        description="A faithful offline fake of EvoLink's Wan2.6 reference-video API.",
    )
    parser.add_argument("--version", action="version", version=f"wanmock {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    serve = commands.add_parser(
        "serve",
        help="serve the fake API over HTTP",
        description="Serve the fake. Every flag also reads from WANMOCK_<FLAG> "
        "(e.g. WANMOCK_CLOCK=virtual); repeatable flags take a comma-separated list.",
    )
    for setting in SETTINGS:
        default = "" if setting.default in ((), None) else f" (default: {setting.default})"
        # a boolean flag given bare means true: --fetch-references
        bare: dict[str, Any] = (
            {"nargs": "?", "const": "true"} if setting.parse is parse_bool else {}
        )
        serve.add_argument(
            setting.flag,
            dest=setting.name,
            action="append" if setting.repeatable else "store",
            metavar=setting.metavar,
            **bare,
            help=f"{setting.help}{default} [env {setting.env}]",
        )
    serve.add_argument(
        "--config", metavar="FILE", help="TOML file of settings [env WANMOCK_CONFIG]"
    )
    serve.add_argument(
        "--log-level",
        default="warning",
        choices=["critical", "error", "warning", "info", "debug"],
        help="server log level (default: warning)",
    )
    receiver_cli.add_parser(commands)
    verify_cli.add_parser(commands)
    client_cli.add_parser(commands)
    wait.add_parser(commands)
    return parser


def banner(config: Config, seed: int) -> str:
    key = next(iter(config.keys))
    base = config.base_url
    return "\n".join(
        [
            f"wanmock {__version__} serving the EvoLink Wan2.6 API at {base}",
            f"  clock {config.clock}, profile {config.profile}, store {config.db}, key {key}",
            f"  seed {seed} (pass --seed {seed} to draw the same ids and timings again)"
            + (f", {config.workers} workers" if config.workers > 1 else ""),
            "  try:",
            f"    curl -s {base}/v1/videos/generations -H 'Authorization: Bearer {key}' "
            '-H \'Content-Type: application/json\' -d \'{"model": "wan2.6-reference-video", '
            '"prompt": "A person dancing", "video_urls": ["https://example.com/ref.mp4"]}\'',
            f"  control API: {base}/_mock/health",
        ]
    )


def serve(args: argparse.Namespace) -> int:
    from mock_server.api.app import export_config

    cli = {s.name: getattr(args, s.name) for s in SETTINGS}
    try:
        config = load_config(cli, config_file=args.config)
    except ConfigError as exc:
        print(f"wanmock: {exc}", file=sys.stderr)
        return 2
    family = socket.AF_INET6 if ":" in config.host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((config.host, config.port))
    except OSError as exc:
        print(
            f"wanmock: cannot listen on {config.host}:{config.port}: {exc.strerror}",
            file=sys.stderr,
        )
        return 2
    sock.listen(2048)  # connections queue from here on, so the banner's URL works at once
    config = config.replace(port=sock.getsockname()[1])
    if config.workers > 1 and config.db == ":memory:":
        print(
            "wanmock: --workers needs a --db file the workers share, not :memory:", file=sys.stderr
        )
        return 2
    try:
        app = open_app(config)
    except Exception as exc:  # a store that cannot open: say so, no traceback
        print(f"wanmock: cannot start: {exc}", file=sys.stderr)
        return 2
    fake = app.state.fake
    print(banner(config, fake.seed), flush=True)
    if config.workers == 1:
        make_server(app, args.log_level, config.graceful_timeout).run(sockets=[sock])
        return 0
    fake.store.close()  # it checked the store and set it up; the workers serve
    resolved = {"port": config.port, "seed": fake.seed}
    exported = export_config(cli, args.config, resolved)
    serve_workers(exported, config.workers, args.log_level, sock, config.graceful_timeout)
    return 0


# Backoff between tries of a store that cannot be reached yet: doubling, at most this.
DB_WAIT_MAX_DELAY = 1.0


def open_app(config: Config) -> Any:
    """The app with its store open. A store that cannot be reached yet (PostgreSQL
    started beside the fake in a compose file) is tried again with backoff until
    ``--db-wait`` seconds have passed; then its last error stops the start."""
    from mock_server.api.app import create_app
    from mock_server.store.records import StoreUnavailable

    deadline = time.monotonic() + config.db_wait
    delay = 0.1
    while True:
        try:
            return create_app(config)
        except StoreUnavailable as exc:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise StoreUnavailable(f"{exc} (tried for {config.db_wait:g} s)") from None
            time.sleep(min(delay, remaining))
            delay = min(delay * 2, DB_WAIT_MAX_DELAY)


# uvicorn kills a worker that does not answer its health check within this; a worker
# still importing on a loaded CI machine can take longer than uvicorn's default 5 s, and
# killing it drops the connections it holds.
WORKER_HEALTHCHECK_SECONDS = 60


def healthcheck() -> dict[str, int]:
    import inspect

    import uvicorn

    known = "timeout_worker_healthcheck" in inspect.signature(uvicorn.Config).parameters
    return {"timeout_worker_healthcheck": WORKER_HEALTHCHECK_SECONDS} if known else {}


def serve_workers(
    exported: str, workers: int, log_level: str, sock: socket.socket, graceful_timeout: float
) -> None:
    """``workers`` uvicorn processes on one socket, each opening the same store."""
    import inspect
    import os

    from uvicorn.supervisors import Multiprocess

    from mock_server.api.app import CONFIG_ENV

    os.environ[CONFIG_ENV] = exported
    server = make_server(
        "mock_server.api.app:app_factory",
        log_level,
        graceful_timeout,
        factory=True,
        workers=workers,
        **healthcheck(),
    )
    if "target" in inspect.signature(Multiprocess).parameters:  # uvicorn before 0.53
        Multiprocess(server.config, target=server.run, sockets=[sock]).run()  # type: ignore[call-arg]
    else:
        Multiprocess(server.config, sockets=[sock]).run()


def make_server(app: Any, log_level: str, graceful_timeout: float = 10.0, **extra: Any) -> Any:
    """The uvicorn settings ``wanmock serve`` runs with (uvloop and httptools when
    installed); ``make bench`` serves its bare baseline through this too. On SIGTERM or
    SIGINT it stops listening, lets requests in flight finish for ``graceful_timeout``
    seconds, shuts the fake down (callback attempts in flight hand their claims back)
    and returns, so the process exits 0."""
    import uvicorn

    from mock_server.api.stopping import CleanStop

    config = uvicorn.Config(
        app,
        loop="auto",
        http="auto",
        log_level=log_level,
        access_log=False,
        timeout_graceful_shutdown=graceful_timeout,  # type: ignore[arg-type]  # a float works
        **extra,
    )
    return CleanStop(config)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command == "serve":
        return serve(args)
    if args.command == "receiver":
        return receiver_cli.run(args)
    if args.command == "verify-provider":
        return verify_cli.run(args)
    if args.command == "wait":
        return wait.run(args)
    if args.command == "verify-client":  # the verifier itself loads only here
        return client_cli.run(args)
    parser.print_help()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
