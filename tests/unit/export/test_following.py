"""Following a big destination folder page by page while its jobs end (``export.following``),
under each reading of the volume listing the docs leave open."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from sbexport_tui.api.models import VolumeObject, VolumePage
from sbexport_tui.export import Journal, Selection, submit_run
from sbexport_tui.export.following import FolderListing, followed_by
from sbexport_tui.export.runner import POLL_CONCURRENCY, poll_once
from sbexport_tui.export.watching import watch_pass

from .conftest import Env
from .test_runner import make_run

WGS = "demo/wgs-cohort"
CHUNKS = "scatter-gather/chunks"
CHUNKS_FOLDER = "wgs-cohort/scatter-gather/chunks/"
CHUNKS_NAME = CHUNKS_FOLDER.rstrip("/")  # a whole listing asks the folder by its name first


def listing_pages(env: Env) -> list[str]:
    pages: list[str] = []

    def before(request: httpx.Request) -> None:
        if request.url.path.endswith("/list") and "/storage/volumes/" in request.url.path:
            pages.append(request.url.params.get("prefix", ""))

    env.hook.before = before
    return pages


async def send_some(env: Env, client, journal: Journal, run_id: int, requests: int) -> None:
    """Send the run's first ``requests`` bulk requests (100 items each), no more."""
    stop = asyncio.Event()
    before = env.hook.count("/exports/create")

    def after(request: httpx.Request, response: httpx.Response) -> None:
        if env.hook.count("/exports/create") - before >= requests:
            stop.set()  # checked between two requests

    env.hook.after = after
    try:
        await submit_run(client, journal, run_id, stop_event=stop)
    finally:
        env.hook.after = None


@pytest.mark.parametrize("variant", [None, "volume-listing-snapshot"])
async def test_a_big_folder_is_listed_page_by_page_as_its_jobs_end(tmp_path, variant) -> None:
    """350 files to one folder: two requests' worth sent and ended, then the rest. The pages
    the ended jobs allow are read while the run is still being sent; what is left after its
    last job is the rest of the folder, not all of it. Under the variant where a continuation
    does not show objects written after the listing began, the followed pages verify what they
    can and the folder's whole listing does the rest: the same outcome, more requests."""
    env = Env(tmp_path, variants=frozenset({variant} if variant else ()))
    client = env.client()
    journal = env.journal()
    try:
        sel = Selection(env.folder_files(WGS, CHUNKS, 350))
        run_id = make_run(env, journal, sel)
        pages = listing_pages(env)
        await send_some(env, client, journal, run_id, 2)
        assert journal.counts(run_id)["planned"] == 150
        env.clock.advance(60)
        first = await watch_pass(client, journal, [run_id], hold={run_id})
        # 200 ended; the first page (100) is read, the second waits: the page after it must
        # exist to go on from (a listing that ends cannot be continued)
        assert pages == [CHUNKS_FOLDER]
        assert first.verified == {run_id: 100}
        assert journal.counts(run_id)["verified"] == 100
        await submit_run(client, journal, run_id)
        env.clock.advance(60)
        last = await watch_pass(client, journal, [run_id])
        assert run_id in last.settled
        counts = journal.counts(run_id)
        assert counts["verified"] == 350 and counts["failed"] == 0, counts
        if variant is None:
            assert pages == [CHUNKS_FOLDER] * 4  # 350 objects: 4 pages, each read once
        else:
            # page 2 ends the snapshot's listing; 150 left for the whole listing: the folder
            # asked by its name (the sim answers with the key prefix ``chunks/``), then that
            # prefix's 4 pages
            assert pages == [CHUNKS_FOLDER] * 2 + [CHUNKS_NAME] + [CHUNKS_FOLDER] * 4
        assert followed_by(journal).runs == {}  # forgotten once settled
    finally:
        journal.close()
        await client.aclose()


async def test_an_object_a_followed_page_does_not_show_is_decided_by_the_whole_listing(
    tmp_path,
) -> None:
    """A job said completed, but its object is gone: the followed pages never decide that; the
    folder's whole listing, once its jobs have all ended, does: ``unverified``, never
    ``failed``."""
    env = Env(tmp_path)
    client = env.client()
    journal = env.journal()
    try:
        sel = Selection(env.folder_files(WGS, CHUNKS, 250))
        run_id = make_run(env, journal, sel)
        await submit_run(client, journal, run_id)
        env.clock.advance(60)
        await poll_once(client, journal, run_id)  # all completed (the sim writes the objects)
        vol = env.world.volumes["demo/us-east-results"]
        gone = journal.item(run_id, 5).location
        assert gone is not None
        del vol.objects[vol.key_for(gone)]
        pages = listing_pages(env)
        result = await watch_pass(client, journal, [run_id])
        assert run_id in result.settled
        counts = journal.counts(run_id)
        assert counts["verified"] == 249 and counts["unverified"] == 1, counts
        assert counts["failed"] == 0 and journal.item(run_id, 5).state == "unverified"
        # 3 followed pages, then the whole folder again for the one they did not show (asked
        # by its name, then the key prefix the sim answers with)
        assert pages == [CHUNKS_FOLDER] * 3 + [CHUNKS_NAME] + [CHUNKS_FOLDER] * 3
    finally:
        journal.close()
        await client.aclose()


def _listing(n: int) -> FolderListing:
    locs = [f"f/{i:04d}" for i in range(n)]
    return FolderListing("f/", locs, list(range(n)))


class States:
    def __init__(self, states: dict[int, str]) -> None:
        self.states = states

    def states_at(self, run_id: int, positions):
        return {p: self.states[p] for p in positions if p in self.states}


def test_the_next_page_waits_for_more_than_a_page_of_ended_objects() -> None:
    f = _listing(300)
    states = dict.fromkeys(range(300), "pending")
    for i in range(100):
        states[i] = "completed"
    assert f.ready(States(states), 1)[0] is False  # the page could reach the open 101st
    states[100] = "failed"  # ended, but no object: the page would still reach past it
    states[101] = "rejected"
    assert f.ready(States(states), 1)[0] is False
    states[102] = "completed"
    may, asked = f.ready(States(states), 1)
    assert may and len(asked) == 103
    # everything ended: the folder's last pages may be read whatever is on the volume
    assert f.ready(States(dict.fromkeys(range(300), "failed")), 1)[0] is True


def test_a_page_covers_up_to_its_last_entry_and_verifies_only_what_had_ended() -> None:
    f = _listing(300)
    asked = {i: "completed" for i in range(50)}
    asked[60] = "unknown"
    entries = tuple(
        VolumeObject(location=f"f/{i:04d}", metadata={"size": i}) for i in range(0, 100)
    )
    found = f.take(VolumePage(entries, "http://x/next", frozenset({"a"})), asked)
    assert f.cursor == 100 and not f.done
    assert set(found) == {*range(50), 60} and found[60] == ("unknown", 60)
    # the last page ends the folder, whatever of it was shown
    found = f.take(VolumePage((), None, frozenset({"a", "b"})), {150: "completed"})
    assert f.done and f.cursor == 300 and found == {}


async def test_pages_are_read_while_the_polls_go_on(tmp_path) -> None:
    """A page is asked as soon as a poll's answer makes it due, not after the pass's polls:
    under the rate limit, the pages left after a run's last job are what decides its end."""
    env = Env(tmp_path)
    client = env.client()
    journal = env.journal()
    try:
        sel = Selection(env.folder_files(WGS, CHUNKS, 450))
        run_id = make_run(env, journal, sel)
        await submit_run(client, journal, run_id)
        env.clock.advance(60)
        start = len(env.hook.paths)
        result = await watch_pass(client, journal, [run_id])
        assert run_id in result.settled
        assert journal.counts(run_id)["verified"] == 450
        kinds = [
            "get" if "/exports/get" in p else "page"
            for p in env.hook.paths[start:]
            if "/exports/get" in p or p.endswith("/list")
        ]
        assert kinds.count("get") == 5 and kinds.count("page") == 5
        last_get = len(kinds) - 1 - kinds[::-1].index("get")
        assert kinds.index("page") < last_get, kinds  # the first page came between the polls
    finally:
        journal.close()
        await client.aclose()


async def test_two_readers_of_one_folder_never_ask_for_the_same_page(tmp_path) -> None:
    """Two passes (or a pass's two parts) advancing the same run at once: each page is asked
    once, and every object verified."""
    env = Env(tmp_path)
    client = env.client()
    journal = env.journal()
    try:
        sel = Selection(env.folder_files(WGS, CHUNKS, 350))
        run_id = make_run(env, journal, sel)
        await submit_run(client, journal, run_id)
        env.clock.advance(60)
        await poll_once(client, journal, run_id)
        pages = listing_pages(env)
        followed = followed_by(journal)
        done = await asyncio.gather(
            followed.advance(client, journal, run_id), followed.advance(client, journal, run_id)
        )
        assert sum(done) == 350 and journal.counts(run_id)["verified"] == 350
        assert pages == [CHUNKS_FOLDER] * 4
    finally:
        journal.close()
        await client.aclose()


@pytest.mark.parametrize("stopping", [False, True])
async def test_a_pass_has_two_polls_in_flight_and_a_stop_ends_it_between_calls(
    tmp_path, stopping
) -> None:
    """``poll_once`` asks ``POLL_CONCURRENCY`` (2) calls at once: a 20,000-job pass is 100
    round trips, not 200. Every job is asked about once; a stop lets the calls in flight end
    and starts no other."""
    env = Env(tmp_path)
    client = env.client()
    journal = env.journal()
    try:
        run_id = make_run(env, journal, Selection(env.folder_files(WGS, CHUNKS, 450)))
        await submit_run(client, journal, run_id)
        env.clock.advance(60)
        real = client.bulk_get_jobs
        flying = peak = 0
        asked: list[str] = []
        stop = asyncio.Event()

        async def slow(kind, ids, **kw):
            nonlocal flying, peak
            flying += 1
            peak = max(peak, flying)
            asked.extend(ids)
            await asyncio.sleep(0.01)  # a round trip: the other asker goes meanwhile
            flying -= 1
            return await real(kind, ids, **kw)

        client.bulk_get_jobs = slow  # type: ignore[method-assign]
        result = await poll_once(
            client,
            journal,
            run_id,
            stop_event=stop,
            on_answer=(lambda _n: stop.set()) if stopping else None,
        )
        assert peak == POLL_CONCURRENCY == 2
        assert len(asked) == len(set(asked))
        if stopping:  # stopped at the first answer: it and the one beside it
            assert result.calls == 2 and len(asked) == 200
            assert journal.counts(run_id)["completed"] == 200
        else:
            assert result.calls == 5 and len(asked) == 450
            assert journal.counts(run_id)["completed"] == 450
    finally:
        journal.close()
        await client.aclose()
