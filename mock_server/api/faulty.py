"""Breaking a connection as a fault-injecting proxy would (``domain/transport.py``).

ASGI gives an application no hold of its connection, so this finds the server's
transport behind ``send`` (uvicorn's bound ``send``, possibly inside Starlette's error
middleware's closure) to close it with no byte written or to reset it (TCP RST). Where
no transport can be found (an in-process test client), the answer's headers are sent
and the connection is then cut, the nearest an application can come.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import struct
from typing import Any

from starlette.types import Message, Send


class DroppedConnection(Exception):
    """Raised to make the server cut the connection (after whatever was sent)."""


def transport_of(send: Any) -> asyncio.Transport | None:
    """The transport behind ``send``: its bound owner's, or one in its closure."""
    seen: list[Any] = [send]
    for _ in range(6):
        if not seen:
            return None
        current = seen.pop(0)
        owner = getattr(current, "__self__", None)
        transport = getattr(owner, "transport", None)
        if hasattr(transport, "abort") and hasattr(transport, "get_extra_info"):
            return transport  # asyncio's or uvloop's
        for cell in getattr(current, "__closure__", None) or ():
            with contextlib.suppress(ValueError):
                if callable(cell.cell_contents):
                    seen.append(cell.cell_contents)
    return None


def _reset(transport: asyncio.Transport) -> None:
    """Close with a TCP RST: linger 0, then abort."""
    sock = transport.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    transport.abort()


async def drop(send: Send) -> None:
    """Close the connection before any byte of an answer, then stop the handler."""
    transport = transport_of(send)
    if transport is not None:
        transport.abort()
        await asyncio.sleep(0)  # let the server see the connection go
    else:
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [(b"content-length", b"1048576")],
            }
        )
    raise DroppedConnection()


def broken(send: Send, kind: str) -> Send:
    """``send`` that passes the answer's headers (with its full Content-Length), then
    half its body, then resets the connection (``reset_connection``) or closes it
    (``truncate_body``)."""
    transport = transport_of(send)
    chunks: list[bytes] = []

    async def half(message: Message) -> None:
        if message["type"] != "http.response.body":
            await send(message)
            return
        chunks.append(message.get("body", b""))
        if message.get("more_body", False):
            return
        body = b"".join(chunks)
        await send(
            {"type": "http.response.body", "body": body[: len(body) // 2], "more_body": True}
        )
        if kind == "reset_connection" and transport is not None:
            _reset(transport)
            await asyncio.sleep(0)
        raise DroppedConnection()

    return half
