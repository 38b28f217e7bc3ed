"""Refusing outgoing requests to private networks (SSRF protection).

A tenant chooses the URLs Belfry calls (webhooks, API base URLs), so without this check a
tenant could make the server probe its own network or a cloud metadata endpoint."""

import asyncio
import ipaddress
import socket
from urllib.parse import urlsplit

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

# IPv6 prefix that NAT64 gateways translate to the IPv4 address in its last 32 bits.
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")


class UnsafeTarget(ValueError):
    """A URL Belfry must not call; the message is a short reason safe to show."""


async def check_public_url(url: str, *, allow_private: bool) -> None:
    """Raise UnsafeTarget unless `url` is http(s) and (unless `allow_private`) every address
    its host resolves to is public.

    A host that does not resolve passes: the request itself then fails as a connection error,
    which is worth retrying, whereas a refusal is final."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UnsafeTarget("not an http(s) URL")
    if allow_private:
        return
    for address in await _addresses(parts.hostname):
        if not is_public(address):
            raise UnsafeTarget("private or loopback address")


async def _addresses(host: str) -> list[IPAddress]:
    try:
        return [ipaddress.ip_address(host)]
    except ValueError:
        pass  # a name, not a literal
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, None, type=socket.SOCK_STREAM)
    except OSError:
        return []
    # sockaddr[0] of an IPv6 link-local answer may carry a "%scope" suffix.
    return [ipaddress.ip_address(str(info[4][0]).split("%", 1)[0]) for info in infos]


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
