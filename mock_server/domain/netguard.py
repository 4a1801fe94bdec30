"""Is a callback host internal? The SSRF guard's pure half.

The real API refuses callbacks to internal addresses (SOURCES.md "Callbacks"). The guard
decides with the standard library: ``ipaddress`` for the ranges, ``socket.inet_aton`` for
the legacy IPv4 spellings (``2130706433``, ``0x7f.1``, ``0177.0.0.1``) that browsers and
libc still accept. Resolution and the connect-time check live in the callback sender
(``mock_server/delivery/sender.py``), which calls ``address_problem`` on every address it is about
to connect to, and on the peer it is connected to.
"""

from __future__ import annotations

import ipaddress
import socket
import unicodedata
from pathlib import Path
from typing import Final

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

# Names that point inside whatever network they are resolved in.
_INTERNAL_NAMES: Final = frozenset(
    {
        "localhost",
        "localhost.localdomain",
        "ip6-localhost",
        "ip6-loopback",
        "metadata",
        "metadata.google.internal",
        "instance-data",
        "instance-data.ec2.internal",
    }
)
_INTERNAL_SUFFIXES: Final = (".localhost", ".local", ".internal", ".localdomain", ".home.arpa")
# Public names that resolve to loopback, and wildcard-DNS services that answer with the
# address spelled in the name (``127.0.0.1.nip.io``, ``10-0-0-1.sslip.io``): refused
# without a lookup, since resolving at create would make create depend on the network.
_LOOPBACK_DOMAINS: Final = ("localtest.me", "lvh.me", "vcap.me", "lacolhost.com", "localh.st")
_ADDRESS_DOMAINS: Final = ("nip.io", "sslip.io", "xip.io", "traefik.me", "backname.io")
# Cloud metadata services that sit on addresses ``ipaddress`` counts as global
# (Oracle's legacy 192.0.0.192, Azure's wire server); the others (169.254.169.254,
# 100.100.100.200, fd00:ec2::254) are link-local, CGNAT or private anyway.
_METADATA_ADDRESSES: Final = frozenset(
    ipaddress.ip_address(a) for a in ("192.0.0.192", "168.63.129.16")
)
# Dots that IDNA maps to "." (ideographic and fullwidth full stops).
_DOTS: Final = str.maketrans({"\u3002": ".", "\uff0e": ".", "\uff61": "."})
HOSTS_FILE: Final = Path("/etc/hosts")
# IPv6 prefixes that carry an IPv4 address in their last 32 bits.
_EMBEDS_IPV4: Final = (ipaddress.ip_network("64:ff9b::/96"), ipaddress.ip_network("::/96"))


def normalize_host(host: str) -> str:
    """``host`` as a resolver sees it: NFKC-folded, IDNA dots, lower case, no final dot.

    ``127。0。0。1`` and ``ＬＯＣＡＬＨＯＳＴ.`` name the same machine as their ASCII forms.
    """
    host = unicodedata.normalize("NFKC", host).translate(_DOTS).strip().lower()
    return host.strip("[]").rstrip(".")


def parse_ip(host: str) -> IPAddress | None:
    """The address a URL host names literally, in any spelling libc accepts, else None."""
    host = normalize_host(host)
    try:
        return ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        pass
    if host and all(c in "0123456789abcdefxABCDEFX." for c in host) and host[0].isdigit():
        try:
            return ipaddress.IPv4Address(socket.inet_aton(host))
        except OSError:
            return None
    return None


def is_internal_address(address: IPAddress) -> bool:
    """Loopback, private, link-local, CGNAT, multicast, reserved, unspecified, and the
    same hidden inside IPv6 (mapped, 6to4, NAT64)."""
    if isinstance(address, ipaddress.IPv6Address):
        embedded: IPAddress | None = address.ipv4_mapped or address.sixtofour
        if embedded is None and any(address in net for net in _EMBEDS_IPV4) and int(address) > 1:
            embedded = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
        if embedded is not None and is_internal_address(embedded):
            return True
    return (
        not address.is_global
        or address in _METADATA_ADDRESSES
        or address.is_multicast
        or address.is_reserved
        or address.is_unspecified
        or address.is_loopback
        or address.is_link_local
        or address.is_private
    )


def is_internal_name(host: str) -> bool:
    name = normalize_host(host)
    if name in _INTERNAL_NAMES or name.endswith(_INTERNAL_SUFFIXES):
        return True
    if any(name == d or name.endswith("." + d) for d in _LOOPBACK_DOMAINS):
        return True
    return any(name.endswith("." + d) for d in _ADDRESS_DOMAINS) and _names_internal_ip(name)


def _names_internal_ip(name: str) -> bool:
    """Does a wildcard-DNS name spell an internal IPv4 address (dotted, dashed or hex)?"""
    labels = name.split(".")
    for start in range(len(labels)):
        dashed = labels[start].split("-")[-4:]
        for parts in (labels[start : start + 4], dashed):
            address = parse_ip(".".join(parts)) if len(parts) == 4 else None
            if address is not None and is_internal_address(address):
                return True
        tail = labels[start].rsplit("-", 1)[-1]
        hexa = len(tail) == 8 and all(c in "0123456789abcdef" for c in tail)
        if hexa and is_internal_address(ipaddress.IPv4Address(int(tail, 16))):
            return True
    return False


def address_problem(address: IPAddress) -> str | None:
    """Why connecting to ``address`` is refused, or None."""
    if is_internal_address(address):
        return f"resolves to an internal address ({address})"
    return None


def hosts_file_addresses(name: str, path: Path = HOSTS_FILE) -> list[IPAddress]:
    """The addresses the local hosts file gives ``name`` (no DNS query is made)."""
    name = normalize_host(name)
    found: list[IPAddress] = []
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return found
    for line in text.splitlines():
        fields = line.split("#", 1)[0].split()
        if len(fields) >= 2 and name in (f.lower().rstrip(".") for f in fields[1:]):
            address = parse_ip(fields[0])
            if address is not None:
                found.append(address)
    return found


def literal_host_problem(host: str) -> str | None:
    """Why ``host`` is refused without a DNS lookup, or None if it may be public."""
    if not host:
        return "has no host"
    address = parse_ip(host)
    if address is not None:
        return "points to an internal address" if is_internal_address(address) else None
    if is_internal_name(host):
        return "points to an internal host"
    return None


def host_problem(host: str, hosts_file: Path = HOSTS_FILE) -> str | None:
    """``literal_host_problem``, plus names the local hosts file maps to internal
    addresses (the machine's own name, for one). DNS is left to the delivery check."""
    problem = literal_host_problem(host)
    if problem is None and parse_ip(host) is None:
        mapped = hosts_file_addresses(host, hosts_file)
        problem = "points to an internal host" if any(map(is_internal_address, mapped)) else None
    return problem
