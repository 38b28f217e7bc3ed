"""Fixtures for the delivery tests: an HTTP client and a loopback receiver."""

from collections.abc import AsyncIterator, Iterator

import httpx
import pytest

from tests.delivery.helpers import Mailbox, Receiver, receiving, smtp_server


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    # trust_env=False: a proxy from the environment must not intercept loopback requests.
    async with httpx.AsyncClient(trust_env=False) as client:
        yield client


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    async with receiving() as live:
        yield live


@pytest.fixture
def smtp() -> Iterator[tuple[Mailbox, int]]:
    with smtp_server() as server:
        yield server
