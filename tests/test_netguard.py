"""The SSRF guard's judgement of callback hosts."""

from __future__ import annotations

from pathlib import Path

import pytest

from mock_server.domain.netguard import (
    address_problem,
    host_problem,
    literal_host_problem,
    parse_ip,
)

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


@pytest.mark.parametrize(
    "host",
    ["127。0。0。1", "ＬＯＣＡＬＨＯＳＴ", "127.0.0.1.", "192.0.0.192", "168.63.129.16"],
)
def test_netguard_refuses_disguised_and_metadata_hosts(host: str) -> None:
    assert literal_host_problem(host) is not None


@pytest.mark.parametrize(
    "host",
    ["localtest.me", "a.lvh.me", "127.0.0.1.nip.io", "x-10-0-0-1.sslip.io", "a-7f000001.nip.io"],
)
def test_netguard_refuses_public_names_for_internal_addresses(host: str) -> None:
    assert literal_host_problem(host) is not None


@pytest.mark.parametrize("host", ["8.8.8.8.nip.io", "app-93-184-216-34.sslip.io", "nip.io"])
def test_netguard_lets_wildcard_dns_of_public_addresses_through(host: str) -> None:
    assert literal_host_problem(host) is None


def test_netguard_host_problem_reads_the_hosts_file(tmp_path: Path) -> None:
    hosts = tmp_path / "hosts"
    hosts.write_text("127.0.1.1 buildbox buildbox.lan # this machine\n93.184.216.34 web\n")
    assert host_problem("buildbox", hosts) == "points to an internal host"
    assert host_problem("BUILDBOX.LAN.", hosts) == "points to an internal host"
    assert host_problem("web", hosts) is None
    assert host_problem("example.com", tmp_path / "missing") is None


def test_netguard_address_problem_names_the_address() -> None:
    address = parse_ip("10.1.2.3")
    assert address is not None
    assert address_problem(address) == "resolves to an internal address (10.1.2.3)"
