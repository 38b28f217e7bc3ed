import pytest

from app.delivery.targets import UnsafeTarget, check_public_url

PRIVATE_URLS = [
    "http://127.0.0.1:8080/hook",
    "http://localhost/hook",
    "https://10.1.2.3/hook",
    "http://192.168.0.10/hook",
    "http://172.16.5.4/hook",
    "http://169.254.169.254/latest/meta-data",  # cloud metadata endpoint
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


def test_refusal_is_a_value_error() -> None:
    assert issubclass(UnsafeTarget, ValueError)
