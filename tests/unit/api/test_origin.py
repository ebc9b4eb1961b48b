"""The token goes only to the API it was given: never along a link to another host or scheme."""

from __future__ import annotations

import httpx
import pytest

from sbexport_tui.api.client import PlatformClient
from sbexport_tui.api.errors import BadResponse

TOKEN = "origintoken00000000000000000000b"
BASE = "https://api.sbgenomics.com/v2"


@pytest.mark.parametrize(
    "link",
    [
        "http://api.sbgenomics.com/v2/projects?offset=50",  # same host, plain http
        "https://attacker.example/v2/projects?offset=50",
        "https://api.sbgenomics.com:8443/v2/projects?offset=50",
        "https://api.sbgenomics.com/other/projects?offset=50",
    ],
)
async def test_a_next_link_outside_the_api_is_not_followed(link):
    seen: list[tuple[str, str | None]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append((str(request.url), request.headers.get("X-SBG-Auth-Token")))
        return httpx.Response(
            200,
            json={
                "href": str(request.url),
                "items": [{"id": "a/b"}],
                "links": [{"href": link, "rel": "next", "method": "GET"}],
            },
        )

    client = PlatformClient(BASE, TOKEN, transport=httpx.MockTransport(handler))
    with pytest.raises(BadResponse, match="outside the API"):
        [p async for p in client.list_projects()]
    assert len(seen) == 1 and seen[0][0].startswith(BASE)  # only the first page was asked
    assert TOKEN not in str(seen[1:])
    await client.aclose()


async def test_links_inside_the_api_are_followed_with_the_token():
    pages = {0: ["a/1"], 1: ["a/2"]}
    seen = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers.get("X-SBG-Auth-Token"))
        page = 1 if "offset=1" in str(request.url) else 0
        links = [{"href": f"{BASE}/projects?offset=1&limit=1", "rel": "next"}] if page == 0 else []
        return httpx.Response(
            200,
            json={
                "href": str(request.url),
                "items": [{"id": i} for i in pages[page]],
                "links": links,
            },
        )

    client = PlatformClient(BASE, TOKEN, transport=httpx.MockTransport(handler))
    ids = [p.id async for p in client.list_projects()]
    assert ids == ["a/1", "a/2"] and seen == [TOKEN, TOKEN]
    await client.aclose()
