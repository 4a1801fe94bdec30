"""Paged control-API listings: a ``limit`` and an opaque ``cursor``.

Every listing (tasks, the journal, the timeline, callbacks) answers at most ``limit``
items and a ``next_cursor`` to pass back for the next page (null at the end). Cursors
are keyset positions (the last item's sort key), so a page costs the same however much
history is stored, and paging through a listing returns every item exactly once even
while new items arrive (docs/control-api.md "Control API").
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

import orjson

from mock_server.domain.errors import invalid

DEFAULT_LIMIT = 100
MAX_LIMIT = 1000


def parse_limit(raw: str | None, default: int = DEFAULT_LIMIT) -> int:
    if raw is None:
        return default
    if not raw.isdigit() or not 0 < int(raw) <= MAX_LIMIT:
        raise invalid("limit", f"limit must be an integer from 1 to {MAX_LIMIT}")
    return int(raw)


def encode_cursor(kind: str, position: tuple[Any, ...] | None) -> str | None:
    """An opaque cursor for ``position`` (a JSON-able sort key) in the ``kind`` listing;
    None (the end) stays None."""
    if position is None:
        return None
    return base64.urlsafe_b64encode(orjson.dumps([kind, *position])).decode().rstrip("=")


def decode_cursor(raw: str | None, kind: str, types: tuple[type, ...]) -> list[Any] | None:
    """The position a cursor names, checked to be a ``kind`` cursor whose parts have
    ``types`` (a float part takes an int too)."""
    if not raw:
        return None
    try:
        value = orjson.loads(base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)))
    except (binascii.Error, ValueError):
        value = None
    if not (
        isinstance(value, list)
        and len(value) == len(types) + 1
        and value[0] == kind
        and all(_is(part, t) for part, t in zip(value[1:], types, strict=True))
    ):
        raise invalid("cursor", "cursor is not one this listing handed out (next_cursor)")
    return value[1:]


def _is(part: object, expected: type) -> bool:
    if isinstance(part, bool):
        return False
    if expected is float:
        return isinstance(part, int | float)
    return isinstance(part, expected)
