"""Is a callback host internal? The SSRF guard's pure half.

The real API refuses callbacks to internal addresses (SOURCES.md "Callbacks"). The guard
decides with the standard library: ``ipaddress`` for the ranges, ``socket.inet_aton`` for
the legacy IPv4 spellings (``2130706433``, ``0x7f.1``, ``0177.0.0.1``) that browsers and
libc still accept. Resolution and the connect-time check live in the callback sender.
"""

from __future__ import annotations

import ipaddress
import socket
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
# IPv6 prefixes that carry an IPv4 address in their last 32 bits.
_EMBEDS_IPV4: Final = (ipaddress.ip_network("64:ff9b::/96"), ipaddress.ip_network("::/96"))


def parse_ip(host: str) -> IPAddress | None:
    """The address a URL host names literally, in any spelling libc accepts, else None."""
    host = host.strip("[]")
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
        or address.is_multicast
        or address.is_reserved
        or address.is_unspecified
        or address.is_loopback
        or address.is_link_local
        or address.is_private
    )


def is_internal_name(host: str) -> bool:
    name = host.rstrip(".").lower()
    return name in _INTERNAL_NAMES or name.endswith(_INTERNAL_SUFFIXES)


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
