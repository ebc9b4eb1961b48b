"""Paging never truncates, costs ceil(N/100) requests, runs pages concurrently and never loops."""

import asyncio
import math

import httpx
import pytest

from sbexport_tui.api import PagingError, PlatformClient, RetryPolicy
from sbexport_tui.sim import SimTransport

from .conftest import TOKEN, CountingTransport, Env, FakeClock, find_folder

BIG = "scatter-gather/chunks"


async def test_lists_all_5000_files_in_ceil_n_over_100_requests(env: Env, client):
    _, children = await find_folder(client, "demo/wgs-cohort", "scatter-gather")
    chunks = next(f for f in children if f.name == "chunks")
    before = len(env.transport.sent)
    files = [f async for f in client.list_folder(chunks.id)]
    requests = len(env.transport.sent) - before
    n = len(files)
    assert n == 5000
    assert requests <= math.ceil(n / 100) + 1
    assert [f.name for f in files] == [f"chunk_{i:05d}.interval_list.vcf.gz" for i in range(5000)]
    assert files[-1].name == "chunk_04999.interval_list.vcf.gz"
    assert all(f.storage.type == "PLATFORM" and f.size for f in files)  # fields=_all
    sent = env.transport.sent[before:]
    assert {s.url.params["limit"] for s in sent} == {"100"}
    assert sorted(int(s.url.params["offset"]) for s in sent) == list(range(0, 5000, 100))
    assert all(s.url.params["parent"] == chunks.id for s in sent)
    assert all(s.url.params["fields"] == "_all" for s in sent)


async def test_project_root_and_projects_and_volumes(env: Env, client):
    root = [f async for f in client.list_project_root("demo/wgs-cohort")]
    names = {f.name for f in root}
    assert {"batches", "scatter-gather", "reference", "README.txt"} <= names
    assert env.transport.sent[-1].url.params["project"] == "demo/wgs-cohort"
    projects = [p async for p in client.list_projects()]
    assert {p.id for p in projects} == {
        "demo/wgs-cohort",
        "demo/rnaseq-pilot",
        "demo/gcp-study",
        "demo/eu-biobank",
    }
    assert {p.location for p in projects} == {
        "aws:us-east-1",
        "aws:us-west-2",
        "gcp:us-central1",
        "aws:eu-central-1",
    }
    project = await client.get_project("demo/wgs-cohort")
    assert project.root_folder and project.permissions.write
    vols = {v.id: v async for v in client.list_volumes()}
    assert vols["demo/azure-share"].service_type == "azure"
    assert vols["demo/lab-archive"].access_mode == "RO"
    assert vols["demo/old-bucket"].active is False
    assert env.transport.sent[-1].url.params["fields"] == "_all"
    one = await client.get_volume("demo/us-east-results")
    assert one.prefix == "sbexport/" and one.bucket == "demo-lab-results-use1"


class StripTotal(httpx.AsyncBaseTransport):
    def __init__(self, inner):
        self.inner = inner

    async def handle_async_request(self, request):
        r = await self.inner.handle_async_request(request)
        await r.aread()
        headers = [(k, v) for k, v in r.headers.items() if k.lower() != "x-total-matching-query"]
        return httpx.Response(r.status_code, headers=headers, content=r.content)


async def test_missing_total_header_follows_next_links(clock):
    env = Env(clock)
    env.transport = CountingTransport(StripTotal(SimTransport(env.platform)), clock)
    client = env.client()
    _, items = await find_folder(client, "demo/wgs-cohort", "scatter-gather")
    chunks = next(f for f in items if f.name == "chunks")
    before = len(env.transport.sent)
    files = [f async for f in client.list_folder(chunks.id)]
    assert len(files) == 5000 and files[-1].name == "chunk_04999.interval_list.vcf.gz"
    assert len(env.transport.sent) - before == 50
    await client.aclose()


def _mock_client(handler, clock=None, **kw) -> PlatformClient:
    clock = clock or FakeClock()
    return PlatformClient(
        "http://mock.invalid/v2",
        TOKEN,
        transport=httpx.MockTransport(handler),
        clock=clock,
        sleep=clock.sleep,
        retry=RetryPolicy(backoff_base=0),
        **kw,
    )


async def test_next_links_that_loop_stop_with_an_error():
    calls = []

    def handler(request):
        calls.append(request.url)
        base = "http://mock.invalid/v2/files?parent=x&fields=_all"
        nxt = base + "&offset=100&limit=100"
        if request.url.params.get("offset") == "100":
            nxt = base + "&limit=100&offset=0"  # back to the start (params in another order)
        return httpx.Response(
            200,
            json={
                "href": str(request.url),
                "items": [{"id": str(len(calls))}],
                "links": [{"href": nxt, "rel": "next", "method": "GET"}],
            },
        )

    client = _mock_client(handler)
    got = []
    with pytest.raises(PagingError, match="already read"):
        async for f in client.list_folder("x"):
            got.append(f.id)
    assert got == ["1", "2"] and len(calls) == 2


async def test_self_link_loop_stops():
    def handler(request):
        return httpx.Response(
            200, json={"items": [{"id": "a"}], "links": [{"href": str(request.url), "rel": "next"}]}
        )

    client = _mock_client(handler)
    with pytest.raises(PagingError):
        _ = [f async for f in client.list_folder("x")]


async def test_pages_are_fetched_concurrently_but_bounded_and_yielded_in_order():
    in_flight = 0
    peak = 0
    total = 2000

    async def handler(request):
        nonlocal in_flight, peak
        in_flight += 1
        peak = max(peak, in_flight)
        offset = int(request.url.params["offset"])
        # later pages answer faster: order must still be kept
        for _ in range(max(1, 30 - offset // 100)):
            await asyncio.sleep(0)
        in_flight -= 1
        items = [{"id": str(i)} for i in range(offset, min(offset + 100, total))]
        return httpx.Response(
            200, json={"items": items, "links": []}, headers={"X-Total-Matching-Query": str(total)}
        )

    client = _mock_client(handler, page_concurrency=5)
    ids = [f.id async for f in client.list_folder("x")]
    assert ids == [str(i) for i in range(total)]
    assert 1 < peak <= 5


async def test_list_that_grew_meanwhile_is_not_truncated():
    """The total said 150 but 250 exist by the time page 2 is read: follow `next`."""
    data = [{"id": str(i)} for i in range(250)]

    def handler(request):
        offset = int(request.url.params.get("offset", 0))
        total = 150 if offset == 0 else 250
        links = []
        if offset + 100 < total:
            links = [
                {
                    "href": f"http://mock.invalid/v2/files?parent=x&offset={offset + 100}"
                    "&limit=100",
                    "rel": "next",
                }
            ]
        return httpx.Response(
            200,
            json={"items": data[offset : offset + 100], "links": links},
            headers={"X-Total-Matching-Query": str(total)},
        )

    client = _mock_client(handler)
    ids = [f.id async for f in client.list_folder("x")]
    assert ids == [str(i) for i in range(250)]


async def test_empty_list_costs_one_request():
    calls = []

    def handler(request):
        calls.append(1)
        return httpx.Response(
            200, json={"items": [], "links": []}, headers={"X-Total-Matching-Query": "0"}
        )

    client = _mock_client(handler)
    assert [f async for f in client.list_folder("x")] == []
    assert len(calls) == 1


async def test_volume_listing_follows_next_style_links_and_guards_loops():
    pages = {
        None: {
            "items": [{"location": "a"}],
            "prefixes": [{"prefix": "d/"}],
            "links": [{"next": "http://mock.invalid/v2/storage/volumes/o/v/list?c=1"}],
        },
        "1": {
            "items": [{"location": "b"}],
            "prefixes": [],
            "links": [{"next": "http://mock.invalid/v2/storage/volumes/o/v/list?c=1"}],
        },
    }

    def handler(request):
        return httpx.Response(200, json=pages[request.url.params.get("c")])

    client = _mock_client(handler)
    got = []
    with pytest.raises(PagingError, match="already read"):
        async for entry in client.list_volume_objects("o/v"):
            got.append(getattr(entry, "location", None) or entry.prefix)
    assert got == ["d/", "a", "b"]


async def test_repeated_state_filters_are_all_sent(env: Env, client):
    _ = [
        j
        async for j in client.list_exports(
            volume="demo/us-east-results", state=["pending", "RUNNING"]
        )
    ]
    params = env.transport.sent[-1].url.params
    assert params.get_list("state") == ["PENDING", "RUNNING"]
    assert params["volume"] == "demo/us-east-results" and params["fields"] == "_all"


async def test_a_cap_on_offset_paging_continues_by_scroll_without_loss(clock):
    """Under the sim's offset-cap variant (offsets past 1,000 refused), the listing goes on with
    /files/scroll: all 5,000 files, each once, in a bounded number of requests."""
    env = Env(clock, variants=frozenset({"offset-cap"}))
    client = env.client()
    _, children = await find_folder(client, "demo/wgs-cohort", "scatter-gather")
    chunks = next(f for f in children if f.name == "chunks")
    before = len(env.transport.sent)
    files = [f async for f in client.list_folder(chunks.id)]
    sent = env.transport.sent[before:]
    assert len(files) == 5000 and len({f.id for f in files}) == 5000
    assert [f.name for f in files] == [f"chunk_{i:05d}.interval_list.vcf.gz" for i in range(5000)]
    scrolls = [s for s in sent if s.url.path.endswith("/files/scroll")]
    assert scrolls and all(s.url.params["parent"] == chunks.id for s in scrolls)
    assert all(s.url.params["fields"] == "_all" for s in scrolls)
    # the offset pages up to the cap, the refused ones in flight, then the scroll from the start
    assert len(sent) <= 10 + client.page_concurrency + 50 + 1
    await client.aclose()


async def test_a_refused_first_page_is_an_error_not_a_scroll(clock):
    env = Env(clock, variants=frozenset({"offset-cap"}))
    client = env.client()
    with pytest.raises(Exception, match="exactly one"):
        _ = [f async for f in client._list_files({}, "interactive")]
    assert not any(s.url.path.endswith("/scroll") for s in env.transport.sent)
    await client.aclose()
