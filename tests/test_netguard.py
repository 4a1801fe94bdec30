"""The SSRF guard's judgement of callback hosts."""

from __future__ import annotations

import pytest

from mock_server.netguard import literal_host_problem

INTERNAL_HOSTS = [
    "127.0.0.1",
    "127.1",
    "2130706433",
    "0x7f000001",
    "0177.0.0.1",
    "0x7f.0.0.1",
    "10.1.2.3",
    "172.16.0.1",
    "172.31.255.255",
    "192.168.1.1",
    "169.254.169.254",
    "100.64.0.1",
    "0.0.0.0",
    "0",
    "224.0.0.1",
    "239.255.255.250",
    "255.255.255.255",
    "240.0.0.1",
    "[::1]",
    "::1",
    "[::]",
    "[fe80::1]",
    "[fc00::1]",
    "[fd12:3456::1]",
    "[::ffff:127.0.0.1]",
    "[::ffff:7f00:1]",
    "[::ffff:10.0.0.1]",
    "[64:ff9b::a00:1]",
    "[2002:c0a8:101::1]",
    "[ff02::1]",
    "localhost",
    "LOCALHOST",
    "foo.localhost",
    "localhost.",
    "metadata.google.internal",
    "db.internal",
    "printer.local",
]
PUBLIC_HOSTS = ["example.com", "8.8.8.8", "93.184.216.34", "[2606:4700::1111]", "hooks.slack.com"]


@pytest.mark.parametrize("host", INTERNAL_HOSTS)
def test_netguard_refuses_internal_host(host: str) -> None:
    assert literal_host_problem(host) is not None


@pytest.mark.parametrize("host", PUBLIC_HOSTS)
def test_netguard_lets_public_host_through(host: str) -> None:
    assert literal_host_problem(host) is None
