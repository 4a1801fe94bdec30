"""One callback attempt over HTTPS, with the SSRF guard at connect time.

The guard runs twice per attempt. First the URL's own rules, the same ones a create is
held to (https, at most 2048 characters, no internal literal or name). Then, inside the
connection itself, ``GuardedBackend`` resolves the host once, refuses it if any address is
internal, connects to a vetted address and checks the peer it actually reached. TLS still
verifies the certificate against the URL's host name (SNI and ``Host`` are the name), so
nothing is resolved twice and a DNS answer that changes between check and connect
(rebinding) cannot slip an internal address in. Hosts given with
``--allow-callback-host`` skip the address checks; ``--callback-ca-file`` adds a CA.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import ssl
from collections.abc import Awaitable, Callable, Iterable
from typing import Any, Final

import httpcore
import httpx

from contracts.facts import CALLBACK_TIMEOUT_SECONDS
from mock_server import __version__
from mock_server.delivery.attempt import Answer
from mock_server.domain import netguard
from mock_server.domain.errors import ApiError
from mock_server.domain.validation import check_callback_url
from mock_server.runtime.clock import monotonic
from mock_server.runtime.config import Config

Resolver = Callable[[str, int], Awaitable[list[netguard.IPAddress]]]
USER_AGENT: Final = f"wanmock/{__version__} (callback)"


class Refused(Exception):
    """The SSRF guard refused a callback address; no connection was made (or kept)."""


async def resolve(host: str, port: int) -> list[netguard.IPAddress]:
    """Every address the system resolver gives ``host``, in its order, once each."""
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    found: list[netguard.IPAddress] = []
    for info in infos:
        address = netguard.parse_ip(str(info[4][0]))
        if address is not None and address not in found:
            found.append(address)
    return found


class GuardedBackend(httpcore.AsyncNetworkBackend):
    """httpcore's network backend with the SSRF guard between resolving and connecting."""

    def __init__(self, allowed_hosts: Iterable[str], resolver: Resolver = resolve) -> None:
        self.allowed = frozenset(netguard.normalize_host(h) for h in allowed_hosts)
        self.resolver = resolver
        self.inner = httpcore.AnyIOBackend()
        self.address: str | None = None  # the peer actually connected to

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        name = netguard.normalize_host(host)
        trusted = name in self.allowed
        problem = None if trusted else netguard.literal_host_problem(name)
        if problem:
            raise Refused(f"callback_url {problem}")
        literal = netguard.parse_ip(name)
        addresses = [literal] if literal is not None else await self.resolver(name, port)
        for address in addresses if not trusted else ():
            if problem := netguard.address_problem(address):
                raise Refused(f"{name} {problem}")
        error: Exception = httpcore.ConnectError(f"{name} has no address")
        for address in addresses:
            try:
                stream = await self.inner.connect_tcp(
                    str(address), port, timeout, local_address, socket_options
                )
            except httpcore.ConnectError as exc:
                error = exc
                continue
            peer = stream.get_extra_info("server_addr")
            reached = netguard.parse_ip(str(peer[0])) if peer else None
            self.address = str(reached or address)
            if not trusted and (reached != address or netguard.is_internal_address(reached)):
                await stream.aclose()
                raise Refused(f"{name} connected to {reached}, not the vetted {address}")
            return stream
        raise error

    async def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[Any] | None = None
    ) -> httpcore.AsyncNetworkStream:
        raise Refused("callbacks never use unix sockets")

    async def sleep(self, seconds: float) -> None:
        await self.inner.sleep(seconds)


class GuardedTransport(httpx.AsyncHTTPTransport):
    """httpx's transport on a ``GuardedBackend``: no proxies, no environment."""

    def __init__(self, ssl_context: ssl.SSLContext, backend: GuardedBackend) -> None:
        super().__init__(verify=ssl_context, trust_env=False)
        # httpx takes no network backend, so swap the pool it built for one that connects
        # through the guard (the transport only ever talks to ``_pool``).
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=ssl_context, network_backend=backend, max_keepalive_connections=0
        )


def callback_ssl_context(ca_file: str | None) -> ssl.SSLContext:
    """Public CAs (httpx's defaults) plus ``--callback-ca-file``."""
    context = httpx.create_ssl_context(trust_env=False)
    if ca_file:
        context.load_verify_locations(cafile=ca_file)
    return context


def classify(exc: BaseException) -> tuple[str, str]:
    """(kind, text) of a failed attempt, from the innermost cause that explains it."""
    if isinstance(exc, TimeoutError | httpx.TimeoutException):
        return "timeout", f"timeout: no answer within {CALLBACK_TIMEOUT_SECONDS:g} s"
    chain: list[BaseException] = []
    seen: BaseException | None = exc
    while seen is not None and seen not in chain:
        chain.append(seen)
        seen = seen.__cause__ or seen.__context__
    for cause in chain:
        if isinstance(cause, Refused):
            return "refused", f"refused: {cause}"
        if isinstance(cause, ssl.SSLCertVerificationError):
            return "tls", f"tls: certificate verify failed ({cause.verify_message})"
        if isinstance(cause, ssl.SSLError | ssl.CertificateError):
            return "tls", f"tls: {cause}"
        if isinstance(cause, socket.gaierror):
            return "dns", f"dns: cannot resolve the host ({cause.strerror})"
        if isinstance(cause, ConnectionRefusedError):
            return "connect", "connect: connection refused"
        if isinstance(cause, OSError) and cause.strerror:
            return "connect", f"connect: {cause.strerror}"
    if isinstance(exc, httpx.ConnectError):
        return "connect", f"connect: {exc}"
    return "protocol", f"protocol: {type(exc).__name__}: {exc}"


class HttpSender:
    """Makes attempts with httpx; one fresh connection per attempt."""

    def __init__(self, config: Config, resolver: Resolver = resolve) -> None:
        self.allowed = frozenset(config.allow_callback_host)
        self.ca_file = config.callback_ca_file
        self.resolver = resolver
        self._context: ssl.SSLContext | None = None
        with contextlib.suppress(OSError, ssl.SSLError):  # a bad CA file: each attempt says so
            self.ssl_context()

    def ssl_context(self) -> ssl.SSLContext:
        if self._context is None:
            self._context = callback_ssl_context(self.ca_file)
        return self._context

    async def send(self, url: str, body: bytes, number: int, wall_limit: float) -> Answer:
        backend = GuardedBackend(self.allowed, self.resolver)
        try:
            check_callback_url(url, self.allowed)
            context = self.ssl_context()  # loaded once, before the clock starts
        except ApiError as error:
            return Answer(error=f"refused: {error.message}", kind="refused")
        except (OSError, ssl.SSLError) as exc:
            return Answer(error=f"tls: cannot load --callback-ca-file: {exc}", kind="tls")
        started = monotonic()

        def answer(**fields: Any) -> Answer:
            latency = (monotonic() - started) * 1000
            return Answer(address=backend.address, latency_ms=latency, **fields)

        headers = {
            "content-type": "application/json",
            "user-agent": USER_AGENT,
            "x-wanmock-attempt": str(number),
        }
        try:
            async with httpx.AsyncClient(
                transport=GuardedTransport(context, backend),
                timeout=wall_limit,
                follow_redirects=False,
                trust_env=False,
            ) as client:
                status = await asyncio.wait_for(
                    _post(client, url, body, headers), timeout=wall_limit
                )
        except Exception as exc:
            kind, text = classify(exc)
            return answer(error=text, kind=kind)
        return answer(status=status)


async def _post(client: httpx.AsyncClient, url: str, body: bytes, headers: dict[str, str]) -> int:
    # Only the status matters: the answer's body is never read, however large.
    async with client.stream("POST", url, content=body, headers=headers) as response:
        return response.status_code
