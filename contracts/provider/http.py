"""Talking to a provider: one async httpx client, every exchange kept for the report.

A provider is a black box at a base URL: the real EvoLink endpoint, ``wanmock serve``,
or anything else that claims to be the API. The file service may live on another host
(``files-api.evolink.ai`` beside ``api.evolink.ai``). When the provider also answers
wanmock's ``/_mock`` control API, a few extra checks can run (402, 403, ledger); nothing
else depends on it.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx

from contracts.pricing import as_credits

REAL_API_HOST = "api.evolink.ai"
REAL_FILES_URL = "https://files-api.evolink.ai"


def default_files_url(base_url: str) -> str:
    """The real file service for the real API; the same origin for anything else."""
    return REAL_FILES_URL if urlsplit(base_url).hostname == REAL_API_HOST else base_url


@dataclass(frozen=True)
class Options:
    """What ``wanmock verify-provider`` was asked to do."""

    base_url: str
    api_key: str
    allow_spend: Decimal = Decimal("0")
    record: Path | None = None
    files_url: str | None = None
    control_token: str | None = None
    poll_interval: float = 3.0
    timeout: float = 900.0
    request_timeout: float = 30.0
    reference_file: Path | None = None

    @property
    def files(self) -> str:
        """Where the file service answers."""
        return (self.files_url or default_files_url(self.base_url)).rstrip("/")


@dataclass
class Exchange:
    """One request and its answer, decoded when it is JSON."""

    operation: str
    method: str
    url: str
    auth: str
    request: Any
    status: int
    content_type: str
    body: Any
    text: str
    headers: dict[str, str] = field(default_factory=dict)


Listener = Callable[[Exchange], None]


class Provider:
    """The provider under verification, as an async client of its documented API."""

    def __init__(self, options: Options, listeners: list[Listener] | None = None) -> None:
        self.options = options
        self.base = options.base_url.rstrip("/")
        self.listeners = listeners or []
        self.client = httpx.AsyncClient(timeout=options.request_timeout, follow_redirects=False)
        self.control_available: bool | None = None
        #: Names this run's uploads, so runs sharing a key never touch each other's files.
        self.run_id = secrets.token_hex(4)

    async def aclose(self) -> None:
        """Close the connection pool."""
        await self.client.aclose()

    def headers(self, auth: str) -> dict[str, str]:
        """``auth`` is "key" (the API key), "none", or "bad" (a key nobody has)."""
        if auth == "key":
            return {"Authorization": f"Bearer {self.options.api_key}"}
        if auth == "bad":
            return {"Authorization": "Bearer sk-wanmock-verify-no-such-key"}
        if auth.startswith("Bearer "):
            return {"Authorization": auth}
        return {}

    async def call(
        self,
        operation: str,
        method: str,
        url: str,
        *,
        auth: str = "key",
        json: Any = None,
        files: Any = None,
        data: Any = None,
        record: bool = True,
    ) -> Exchange:
        """Send one request; the answer is decoded, kept and shown to listeners.

        A GET whose connection the server closed before answering is sent once more: a
        pooled keep-alive connection may be closed just as it is reused (several runs on
        a busy machine). Other methods are never resent, so nothing is created twice."""
        headers = self.headers(auth)
        try:
            response = await self.client.request(
                method, url, headers=headers, json=json, files=files, data=data
            )
        except (httpx.ReadError, httpx.RemoteProtocolError):
            if method != "GET":
                raise
            response = await self.client.request(method, url, headers=headers)
        kind = response.headers.get("content-type", "")
        try:
            body = response.json() if response.content else None
        except ValueError:
            body = None
        exchange = Exchange(
            operation,
            method,
            url,
            auth if auth in ("key", "none", "bad") else "other",
            json if json is not None else data,
            response.status_code,
            kind,
            body,
            response.text[:2000],
            {k: v for k, v in response.headers.items() if k.lower() in ("content-type",)},
        )
        if record:
            for listener in self.listeners:
                listener(exchange)
        return exchange

    # -- the documented API -------------------------------------------------------------

    async def create(self, body: Any, *, auth: str = "key", operation: str = "create") -> Exchange:
        """``POST /v1/videos/generations``."""
        return await self.call(
            operation, "POST", f"{self.base}/v1/videos/generations", auth=auth, json=body
        )

    async def query(self, task_id: str, *, auth: str = "key", operation: str = "query") -> Exchange:
        """``GET /v1/tasks/{task_id}``."""
        return await self.call(operation, "GET", f"{self.base}/v1/tasks/{task_id}", auth=auth)

    async def credits(self) -> Decimal | None:
        """The key's remaining credits from ``GET /v1/credits``, None if not served."""
        answer = await self.call("credits", "GET", f"{self.base}/v1/credits")
        data = answer.body.get("data") if isinstance(answer.body, dict) else None
        token = data.get("token") if isinstance(data, dict) else None
        if answer.status != 200 or not isinstance(token, dict):
            return None
        return as_credits(token.get("remaining_credits"))

    def files_path(self, path: str) -> str:
        """A URL of the file service."""
        return f"{self.options.files}/api/v1/files/{path}"

    # -- wanmock's control API, when the provider has one --------------------------------

    async def control(self, method: str, path: str, json: Any = None) -> Any:
        """``/_mock{path}`` as JSON, or None when the provider has no (open) control API."""
        auth = f"Bearer {self.options.control_token}" if self.options.control_token else "none"
        try:
            answer = await self.call(
                "control", method, f"{self.base}/_mock{path}", auth=auth, json=json, record=False
            )
        except httpx.HTTPError:
            return None
        if answer.status != 200 or not isinstance(answer.body, dict):
            return None
        return answer.body

    async def has_control(self) -> bool:
        """Whether ``/_mock/health`` answers like wanmock's control API."""
        if self.control_available is None:
            health = await self.control("GET", "/health")
            self.control_available = bool(health and health.get("status") == "ok")
        return self.control_available

    async def clock_mode(self) -> str | None:
        """wanmock's clock mode (``real``, ``virtual``, ``stepped``); None elsewhere."""
        if not await self.has_control():
            return None
        clock = await self.control("GET", "/clock")
        mode = (clock or {}).get("mode")
        return mode if isinstance(mode, str) else None

    async def charges(self, task_id: str) -> Decimal | None:
        """Credits the fake's ledger charged ``task_id`` (None without a control API)."""
        if not await self.has_control():
            return None
        ledger = await self.control("GET", f"/ledger?key={self.options.api_key}")
        if ledger is None:
            return None
        amounts = [
            Decimal(str(e["amount"]))
            for e in ledger.get("entries", [])
            if e.get("task_id") == task_id and e.get("kind") == "charge"
        ]
        return sum(amounts, Decimal("0"))

    async def balance(self) -> Decimal | None:
        """The key's remaining credits: ``/v1/credits``, else the fake's ledger."""
        remaining = await self.credits()
        if remaining is not None or not await self.has_control():
            return remaining
        ledger = await self.control("GET", f"/ledger?key={self.options.api_key}")
        balances = (ledger or {}).get("balances", {})
        mine = balances.get(self.options.api_key)
        return as_credits(mine.get("credits")) if isinstance(mine, dict) else None
