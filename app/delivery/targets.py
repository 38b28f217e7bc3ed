"""Refusing outgoing connections to private networks (SSRF protection).

A tenant chooses where Belfry connects (webhook and API URLs, its SMTP server), so without
these checks a tenant could make the server probe its own network or a cloud metadata endpoint.
Senders resolve a name once, check every address it has, and connect only to a checked one,
so the name cannot answer differently between the check and the connection (DNS rebinding)."""

import asyncio
import ipaddress
import socket
from urllib.parse import urlsplit

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

# Cloud instance metadata and credential endpoints hand out the server's own credentials, so
# they are refused even where private targets are allowed.
METADATA_ADDRESSES: frozenset[IPAddress] = frozenset(
    ipaddress.ip_address(address)
    for address in (
        "169.254.169.254",  # AWS, Google Cloud, Azure, DigitalOcean, OpenStack, Oracle, ...
        "fd00:ec2::254",  # AWS instance metadata over IPv6
        "169.254.170.2",  # AWS ECS task credentials
        "169.254.170.23",  # AWS EKS Pod Identity agent
        "fd00:ec2::23",  # AWS EKS Pod Identity agent over IPv6
        "100.100.100.200",  # Alibaba Cloud
        "168.63.129.16",  # Azure WireServer
        "192.0.0.192",  # Oracle Cloud (classic)
    )
)

# Addresses tried per send: one of each family first, so a dual-stack name whose IPv6
# route is broken still works, while a name with many dead addresses cannot hold a worker.
CONNECT_ATTEMPTS = 2
# A name that takes longer is treated as one that does not resolve.
RESOLVE_TIMEOUT = 5.0

# IPv6 prefix that NAT64 gateways translate to the IPv4 address in its last 32 bits.
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")


class UnsafeTarget(ValueError):
    """A target Belfry must not connect to; the message is a short reason safe to show."""


async def checked_addresses(host: str, *, allow_private: bool) -> list[IPAddress]:
    """The addresses to connect to for `host`, in order, after checking every address it
    resolves to; [] when it does not resolve. UnsafeTarget when any address is refused:
    a name with one private answer among public ones could be steered to it."""
    addresses = await _resolve(host)
    for address in addresses:
        check_address(address, allow_private=allow_private)
    return _connection_order(addresses)[:CONNECT_ATTEMPTS]


def check_address(address: IPAddress, *, allow_private: bool) -> None:
    """Raise UnsafeTarget unless Belfry may connect to `address`."""
    if is_metadata(address):
        raise UnsafeTarget("cloud metadata address")
    if not allow_private and not is_public(address):
        raise UnsafeTarget("private or loopback address")


async def check_public_url(url: str, *, allow_private: bool) -> None:
    """Raise UnsafeTarget unless `url` is http(s) and every address of its host may be
    connected to. A host that does not resolve passes: it is checked again at send time."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UnsafeTarget("not an http(s) URL")
    await checked_addresses(parts.hostname, allow_private=allow_private)


async def check_target(target: str, *, allow_private: bool) -> None:
    """`check_public_url` for a URL, the same check of a bare host name (an SMTP server)."""
    if "://" in target:
        await check_public_url(target, allow_private=allow_private)
    else:
        await checked_addresses(target, allow_private=allow_private)


async def _resolve(host: str) -> list[IPAddress]:
    literal = address_literal(host)
    if literal is not None:
        return [literal]
    try:
        async with asyncio.timeout(RESOLVE_TIMEOUT):
            infos = await asyncio.get_running_loop().getaddrinfo(
                host, None, type=socket.SOCK_STREAM
            )
    except (OSError, UnicodeError, TimeoutError):
        return []
    # sockaddr[0] of an IPv6 link-local answer may carry a "%scope" suffix.
    return [ipaddress.ip_address(str(info[4][0]).split("%", 1)[0]) for info in infos]


def address_literal(host: str) -> IPAddress | None:
    """The address `host` spells out, None when it is a name."""
    try:
        return ipaddress.ip_address(host.strip().removeprefix("[").removesuffix("]"))
    except ValueError:
        return None  # a name


def _connection_order(addresses: list[IPAddress]) -> list[IPAddress]:
    """Unique addresses, alternating families from the resolver's first choice (RFC 8305)."""
    unique = list(dict.fromkeys(addresses))
    if not unique:
        return []
    first = [a for a in unique if a.version == unique[0].version]
    other = [a for a in unique if a.version != unique[0].version]
    ordered: list[IPAddress] = []
    for index in range(max(len(first), len(other))):
        ordered += first[index : index + 1] + other[index : index + 1]
    return ordered


def is_metadata(address: IPAddress) -> bool:
    """Whether `address`, or the IPv4 address embedded in it, is a cloud metadata endpoint."""
    embedded = _embedded_ipv4(address)
    return address in METADATA_ADDRESSES or (
        embedded is not None and embedded in METADATA_ADDRESSES
    )


def is_public(address: IPAddress) -> bool:
    """Whether `address`, and any IPv4 address embedded in it, is globally routable."""
    embedded = _embedded_ipv4(address)
    if embedded is not None and not is_public(embedded):
        return False
    return address.is_global and not (
        address.is_private
        or address.is_loopback
        or address.is_link_local
        or address.is_multicast
        or address.is_reserved
        or address.is_unspecified
    )


def _embedded_ipv4(address: IPAddress) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address reaches through mapping, 6to4, Teredo or NAT64."""
    if isinstance(address, ipaddress.IPv4Address):
        return None
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address.teredo is not None:
        return address.teredo[1]  # (server, client): the client is who gets the packets
    if address in _NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None
