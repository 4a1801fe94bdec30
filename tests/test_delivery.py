"""One callback attempt: the connect-time SSRF guard, TLS by name, error kinds."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Iterator
from typing import Any

import httpcore
import pytest

from mock_server.delivery.sender import GuardedBackend, HttpSender, Refused, classify
from mock_server.domain.netguard import IPAddress, parse_ip
from mock_server.runtime.config import Config
from mock_server.testing.receiver import Receiver

NAME = "hooks.wanmock.test"


@pytest.fixture(scope="module")
def named() -> Iterator[Receiver]:
    """A receiver whose certificate names ``NAME`` (and no address)."""
    with Receiver(names=(NAME,)) as receiver:
        yield receiver


def resolver(*addresses: str, calls: list[str] | None = None) -> Any:
    async def resolve(host: str, port: int) -> list[IPAddress]:
        if calls is not None:
            calls.append(host)
        return [a for a in map(parse_ip, addresses) if a is not None]

    return resolve


def send(sender: HttpSender, url: str) -> Any:
    return asyncio.run(sender.send(url, b"{}", 1, wall_limit=5))


def test_delivery_connects_to_the_vetted_address_and_speaks_tls_to_the_name(
    named: Receiver,
) -> None:
    calls: list[str] = []
    config = Config(allow_callback_host=(NAME,), callback_ca_file=named.ca_file)
    sender = HttpSender(config, resolver("127.0.0.1", calls=calls))
    answer = send(sender, f"https://{NAME}:{named.port}/callback")
    assert (answer.status, answer.address) == (200, "127.0.0.1")
    assert calls == [NAME]  # resolved once: what was checked is what was connected to
    assert named.last is not None and named.last.headers["host"] == f"{NAME}:{named.port}"


@pytest.mark.parametrize(
    "addresses",
    [("127.0.0.1",), ("10.0.0.7",), ("169.254.169.254",), ("::1",), ("93.184.216.34", "10.0.0.1")],
)
def test_delivery_refuses_a_name_that_resolves_inside(
    named: Receiver, addresses: tuple[str, ...]
) -> None:
    named.clear()
    sender = HttpSender(Config(callback_ca_file=named.ca_file), resolver(*addresses))
    answer = send(sender, f"https://{NAME}:{named.port}/callback")
    assert answer.kind == "refused" and "internal address" in (answer.error or "")
    assert answer.address is None and named.call_count == 0


class _Stream(httpcore.AsyncNetworkStream):
    closed = False

    def get_extra_info(self, info: str) -> Any:
        return ("10.0.0.5", 443) if info == "server_addr" else None

    async def aclose(self) -> None:
        self.closed = True


class _Inner:
    def __init__(self) -> None:
        self.stream = _Stream()

    async def connect_tcp(self, host: str, port: int, *args: Any) -> _Stream:
        return self.stream


def test_delivery_checks_the_peer_it_actually_reached() -> None:
    backend = GuardedBackend((), resolver("93.184.216.34"))
    inner = _Inner()
    backend.inner = inner  # type: ignore[assignment]
    with pytest.raises(Refused, match=r"connected to 10\.0\.0\.5"):
        asyncio.run(backend.connect_tcp("public.example", 443))
    assert inner.stream.closed


def test_delivery_dns_failure_is_its_own_kind() -> None:
    async def fail(host: str, port: int) -> list[IPAddress]:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    answer = send(HttpSender(Config(), fail), "https://nowhere.example/hook")
    assert answer.kind == "dns" and answer.error == (
        "dns: cannot resolve the host (Name or service not known)"
    )


def test_delivery_unreadable_ca_file_is_a_tls_error(named: Receiver) -> None:
    config = Config(allow_callback_host=(NAME,), callback_ca_file="/nonexistent/ca.pem")
    answer = send(HttpSender(config, resolver("127.0.0.1")), f"https://{NAME}:{named.port}/x")
    assert answer.kind == "tls" and "callback-ca-file" in (answer.error or "")


def test_delivery_allowed_host_still_needs_https() -> None:
    answer = send(HttpSender(Config(allow_callback_host=("127.0.0.1",))), "http://127.0.0.1/x")
    assert answer.kind == "refused" and answer.error == "refused: callback_url must use HTTPS"


def test_delivery_classifies_a_timeout() -> None:
    assert classify(TimeoutError())[0] == "timeout"
