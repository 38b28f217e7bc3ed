import ipaddress

import pytest

from app.delivery.targets import (
    METADATA_ADDRESSES,
    UnsafeTarget,
    check_public_url,
    check_target,
    checked_addresses,
)

PRIVATE_URLS = [
    "http://127.0.0.1:8080/hook",
    "http://localhost/hook",
    "https://10.1.2.3/hook",
    "http://192.168.0.10/hook",
    "http://172.16.5.4/hook",
    "http://169.254.10.1/",  # link-local
    "http://0.0.0.0/",
    "http://[::1]/hook",
    "http://[fc00::1]/hook",
    "http://[fd12:3456::1]/hook",
    "http://[fe80::1]/hook",
    "http://[::ffff:127.0.0.1]/hook",  # IPv4-mapped loopback
    "http://[64:ff9b::a00:1]/hook",  # NAT64 to 10.0.0.1
    "http://100.64.0.1/hook",  # carrier-grade NAT
]


@pytest.mark.parametrize("url", PRIVATE_URLS)
async def test_private_targets_are_refused(url: str) -> None:
    with pytest.raises(UnsafeTarget, match="private or loopback"):
        await check_public_url(url, allow_private=False)


@pytest.mark.parametrize("url", PRIVATE_URLS)
async def test_private_targets_are_allowed_when_configured(url: str) -> None:
    await check_public_url(url, allow_private=True)


@pytest.mark.parametrize("allow_private", [False, True])
@pytest.mark.parametrize(
    "url", ["ftp://93.184.216.34/file", "file:///etc/passwd", "gopher://10.0.0.1/", "http:///x"]
)
async def test_only_http_urls_are_accepted(url: str, allow_private: bool) -> None:
    with pytest.raises(UnsafeTarget, match="not an http"):
        await check_public_url(url, allow_private=allow_private)


@pytest.mark.parametrize(
    "url", ["https://93.184.216.34/hook", "http://[2606:2800:220:1:248:1893:25c8:1946]/"]
)
async def test_public_ip_literals_are_accepted(url: str) -> None:
    await check_public_url(url, allow_private=False)  # literals need no DNS


METADATA_URLS = [
    "http://169.254.169.254/latest/meta-data",
    "http://[fd00:ec2::254]/latest/meta-data",
    "http://100.100.100.200/latest/meta-data",
    "http://[::ffff:169.254.169.254]/",  # IPv4-mapped
    "http://[64:ff9b::a9fe:a9fe]/",  # NAT64 to 169.254.169.254
]


@pytest.mark.parametrize("allow_private", [False, True])
@pytest.mark.parametrize("url", METADATA_URLS)
async def test_cloud_metadata_is_refused_even_when_private_targets_are_allowed(
    url: str, allow_private: bool
) -> None:
    with pytest.raises(UnsafeTarget, match="cloud metadata"):
        await check_public_url(url, allow_private=allow_private)


def test_the_metadata_addresses_of_the_big_clouds_are_listed() -> None:
    for address in ("169.254.169.254", "fd00:ec2::254", "100.100.100.200"):
        assert ipaddress.ip_address(address) in METADATA_ADDRESSES


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "[::1]", "10.0.0.5"])
async def test_a_bare_host_is_checked_like_a_url(host: str) -> None:
    with pytest.raises(UnsafeTarget, match="private or loopback"):
        await check_target(host, allow_private=False)
    await check_target(host, allow_private=True)


async def test_a_name_gives_the_addresses_it_was_checked_at() -> None:
    addresses = await checked_addresses("localhost", allow_private=True)

    assert addresses and all(address.is_loopback for address in addresses)


async def test_a_name_that_does_not_resolve_gives_no_address() -> None:
    assert await checked_addresses("no-such-host.invalid", allow_private=False) == []


def test_refusal_is_a_value_error() -> None:
    assert issubclass(UnsafeTarget, ValueError)
