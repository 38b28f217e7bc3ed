"""The client's link check (clients/js/src/links.js) takes the links the server takes, and
refuses those it refuses."""

import json

from tests.node import run_node
from tests.services.test_validation import SAFE_LINKS, UNSAFE_LINKS


async def test_the_client_takes_the_links_the_server_takes() -> None:
    # Given the links the server's check takes, and those it refuses
    # When the client checks each
    taken = await run_node("safe-link.mjs", json.dumps(SAFE_LINKS))
    refused = await run_node("safe-link.mjs", json.dumps(UNSAFE_LINKS))

    # Then it agrees on every one
    assert dict(zip(SAFE_LINKS, taken, strict=True)) == dict.fromkeys(SAFE_LINKS, True)
    assert dict(zip(UNSAFE_LINKS, refused, strict=True)) == dict.fromkeys(UNSAFE_LINKS, False)
