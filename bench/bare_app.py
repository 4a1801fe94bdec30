"""The speed baseline: a bare Starlette app that answers every poll with fixed bytes.

It runs on exactly the uvicorn settings ``wanmock serve`` uses (``mock_server/cli.py``:
loop and http "auto", which pick uvloop and httptools when installed, one worker, access
log off, the same log level), so the only difference the bench measures is the work
wanmock does per poll.

    python -m bench.bare_app --body-file BODY.json [--port 0]
"""

from __future__ import annotations

import argparse
import socket
from collections.abc import Sequence
from pathlib import Path

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from mock_server.cli import make_server

JSON = "application/json"


def create_app(body: bytes) -> Starlette:
    async def poll(request: Request) -> Response:
        return Response(body, media_type=JSON)

    return Starlette(routes=[Route("/v1/tasks/{task_id:path}", poll, methods=["GET"])])


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.bare_app", description=__doc__)
    parser.add_argument("--body-file", required=True, help="the bytes every poll answers")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--log-level", default="warning")
    args = parser.parse_args(argv)

    body = Path(args.body_file).read_bytes()
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((args.host, args.port))
    port = sock.getsockname()[1]
    print(f"bare app serving at http://{args.host}:{port}", flush=True)
    make_server(create_app(body), args.log_level).run(sockets=[sock])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
