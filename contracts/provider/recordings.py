"""``--record DIR``: keep the provider's answers, secrets scrubbed, for the drift test.

Each exchange becomes ``DIR/<seq>-<operation>-<status>.json`` holding the request (method,
path, which key was used, JSON body) and the answer (status, content type, JSON body).
Scrubbed: the API key and control token wherever they appear, and the query string of
every URL that looks signed (``Signature``, ``Expires``, ``X-Amz-*``, ``OSSAccessKeyId``,
``token``), since a signed link is a credential until it expires. ``tests/test_drift.py``
compares the fake's answers with what is recorded in ``fixtures/recorded/``.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any, Final
from urllib.parse import urlsplit

from contracts.provider.http import Exchange

SIGNED: Final = re.compile(
    r"(https?://[^\s\"'?]+)\?[^\s\"']*(?:signature|expires|x-amz-|ossaccesskeyid|token)"
    r"[^\s\"']*",
    re.IGNORECASE,
)
SCRUBBED: Final = "<scrubbed>"


def scrub_text(text: str, secrets: list[str]) -> str:
    """``text`` with every secret replaced and signed URLs cut at the query."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, SCRUBBED)
    return SIGNED.sub(lambda m: f"{m.group(1)}?{SCRUBBED}", text)


def scrub(value: Any, secrets: list[str]) -> Any:
    """A JSON value with every string scrubbed (keys too)."""
    if isinstance(value, dict):
        return {scrub_text(str(k), secrets): scrub(v, secrets) for k, v in value.items()}
    if isinstance(value, list):
        return [scrub(v, secrets) for v in value]
    if isinstance(value, str):
        return scrub_text(value, secrets)
    return value


class Recorder:
    """A ``Provider`` listener that writes every exchange it hears into ``directory``."""

    def __init__(self, directory: Path, secrets: list[str]) -> None:
        self.directory = directory
        self.secrets = [s for s in secrets if s]
        self.count = 0
        directory.mkdir(parents=True, exist_ok=True)

    def __call__(self, exchange: Exchange) -> None:
        self.count += 1
        record = {
            "operation": exchange.operation,
            "method": exchange.method,
            "path": urlsplit(exchange.url).path,
            "auth": exchange.auth,
            "request": exchange.request if isinstance(exchange.request, dict | list) else None,
            "status": exchange.status,
            "content_type": exchange.content_type,
            "body": exchange.body,
        }
        if exchange.body is None:
            record["text"] = exchange.text
        name = f"{self.count:03d}-{exchange.operation}-{exchange.status}.json"
        text = json.dumps(scrub(record, self.secrets), indent=2, ensure_ascii=False)
        (self.directory / name).write_text(text + "\n", encoding="utf-8")


def load(directory: Path) -> list[dict[str, Any]]:
    """The recordings in ``directory``, in the order they were made."""
    if not directory.is_dir():
        return []
    return [json.loads(p.read_text(encoding="utf-8")) for p in sorted(directory.glob("*.json"))]
