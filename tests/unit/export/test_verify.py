"""Verification (``runner.verify_run``) under each reading of the volume listing the docs leave
open, and what it may conclude: a completed job whose object a listing read to its end did not
show is ``unverified`` (never ``failed``, never retried by default); a listing that did not reach
its end proves nothing."""

from __future__ import annotations

from collections.abc import Callable, Iterable

import httpx
import pytest

from sbexport_tui.api import PlatformClient, RetryPolicy
from sbexport_tui.api.models import VolumeObject, VolumePage
from sbexport_tui.export import Journal, Selection, poll_run, submit_run, verify_run
from sbexport_tui.export.plan import list_existing_locations
from sbexport_tui.export.retry import retry_positions
from sbexport_tui.export.runner import VERIFY_MISMATCH
from sbexport_tui.export.states import UNVERIFIED_MESSAGE

from ...clocks import FakeClock
from .conftest import TOKEN, Env
from .test_runner import make_run

WGS = "demo/wgs-cohort"
EAST = "demo/us-east-results"
CHUNKS = "scatter-gather/chunks"


async def completed_run(env: Env, client, journal: Journal, n: int = 5) -> int:
    """A run of ``n`` files to one folder, every job COMPLETED, not verified yet."""
    run_id = make_run(env, journal, Selection(env.folder_files(WGS, CHUNKS, n)))
    await submit_run(client, journal, run_id)
    env.clock.advance(60)
    await poll_run(client, journal, run_id)
    assert journal.counts(run_id)["completed"] == n
    return run_id


class Listing:
    """A volume listing over ``httpx.MockTransport``, under one reading of ``prefix``:

    - ``"key-prefix"``: the docs' example; ``prefix=dir`` gives the entry ``dir/``, and
      ``prefix=dir/`` lists what is in the folder;
    - ``"folder-name"``: the docs' words; ``prefix=dir`` lists what is in the folder, and the
      server adds its own ``/`` (``prefix=dir/`` lists ``dir//``: nothing).

    ``last_page``: what the last page of a folder's contents says (``truncated``)."""

    def __init__(self, objects: Iterable[str], reading: str, *, truncated: bool = False) -> None:
        self.objects = set(objects)
        self.reading = reading
        self.truncated = truncated
        self.asked: list[str] = []

    def handler(self, request: httpx.Request) -> httpx.Response:
        prefix = request.url.params.get("prefix", "")
        self.asked.append(prefix)
        base = prefix + "/" if self.reading == "folder-name" and prefix else prefix
        items, prefixes = [], set()
        for loc in sorted(self.objects):
            if not loc.startswith(base):
                continue
            rest = loc[len(base) :]
            if "/" in rest:
                prefixes.add(base + rest.split("/", 1)[0] + "/")
            else:
                items.append({"location": loc, "metadata": {"size": 1}})
        truncated = self.truncated and bool(items)  # the page with the folder's objects
        return httpx.Response(
            200,
            json={
                "href": str(request.url),
                "prefix": prefix,
                "truncated": truncated,
                "items": items,
                "prefixes": [{"prefix": p, "volume": EAST} for p in sorted(prefixes)],
                "links": [],  # truncated or not, no next link: the listing cannot go on
            },
        )

    def client(self) -> PlatformClient:
        clock = FakeClock()
        return PlatformClient(
            "http://mock.invalid/v2",
            TOKEN,
            transport=httpx.MockTransport(self.handler),
            clock=clock,
            sleep=clock.sleep,
            retry=RetryPolicy(backoff_base=0),
        )


def locations(journal: Journal, run_id: int) -> list[str]:
    return [it.location or "" for it in journal.items(run_id)]


@pytest.mark.parametrize("reading", ["key-prefix", "folder-name"])
async def test_completed_but_not_listed_is_unverified_not_failed(
    env: Env, client, journal: Journal, reading: str
) -> None:
    """A whole listing (no next link, not truncated) that does not show one object: that item is
    ``unverified``, with its job and a message saying what it means; nothing is ``failed``; a
    retry does not take it unless asked for by its state."""
    run_id = await completed_run(env, client, journal)
    locs = locations(journal, run_id)
    listing = Listing(locs[:2] + locs[3:], reading)  # the third object is not there
    async with listing.client() as mock:
        assert await verify_run(mock, journal, run_id) == 4
    counts = journal.counts(run_id)
    assert counts["verified"] == 4 and counts["unverified"] == 1 and counts["failed"] == 0
    item = journal.item(run_id, 2)
    assert item.state == "unverified" and item.job_id and item.error_code is None
    assert item.error_message == UNVERIFIED_MESSAGE
    assert retry_positions(journal, run_id) == []  # "retry all" / `jobs retry`: not taken
    assert retry_positions(journal, run_id, states=["unverified"]) == [2]  # when named


async def test_a_truncated_page_without_a_next_link_proves_nothing(
    env: Env, client, journal: Journal
) -> None:
    """The listing's last page says ``truncated`` but gives no ``next`` link: what it shows is
    verified, what it does not show stays ``completed`` (to be verified later)."""
    run_id = await completed_run(env, client, journal)
    locs = locations(journal, run_id)
    folder = locs[0].rpartition("/")[0]

    class Pages:
        async def list_volume_page(self, volume_id, prefix="", *, after=None, priority=""):
            assert prefix == folder  # asked by its name: the folder's contents at once
            shown = tuple(VolumeObject(location=loc, metadata={"size": 1}) for loc in locs[:3])
            return VolumePage(shown, None, frozenset({"1"}), truncated=True)

    assert await verify_run(Pages(), journal, run_id) == 3
    counts = journal.counts(run_id)
    assert counts["verified"] == 3 and counts["completed"] == 2
    assert counts["unverified"] == 0 and counts["failed"] == 0


async def test_a_stopped_listing_proves_nothing(env: Env, client, journal: Journal) -> None:
    run_id = await completed_run(env, client, journal)
    locs = locations(journal, run_id)

    class Stop:
        def is_set(self) -> bool:
            return len(listing.asked) >= 1  # after the folder's name, before its key prefix

    listing = Listing(locs, "key-prefix")
    async with listing.client() as mock:
        assert await verify_run(mock, journal, run_id, stop_event=Stop()) == 0
    assert journal.counts(run_id)["completed"] == 5  # nothing concluded


@pytest.mark.parametrize(
    ("reading", "asked"),
    [
        # the folder by its name; the answer's entry ``folder/`` is listed in turn
        ("key-prefix", lambda folder: [folder, folder + "/"]),
        # the folder by its name lists its contents: nothing more to ask
        ("folder-name", lambda folder: [folder]),
    ],
)
async def test_verification_finds_the_objects_under_either_reading(
    env: Env, client, journal: Journal, reading: str, asked: Callable[[str], list[str]]
) -> None:
    run_id = await completed_run(env, client, journal)
    locs = locations(journal, run_id)
    listing = Listing([*locs, "elsewhere/x.txt"], reading)
    async with listing.client() as mock:
        assert await verify_run(mock, journal, run_id) == 5
    assert journal.counts(run_id)["verified"] == 5
    assert listing.asked == asked(locs[0].rpartition("/")[0])


@pytest.mark.parametrize("reading", ["key-prefix", "folder-name"])
async def test_the_plan_sees_existing_objects_under_either_reading(reading: str) -> None:
    """The plan's collision check reads the volume the same way: an object already there is
    found whichever way the listing reads ``prefix``."""
    listing = Listing(["out/a.txt", "out/sub/b.txt", "out.txt"], reading)
    async with listing.client() as mock:
        found = await list_existing_locations(mock, EAST, ["out/a.txt", "out/c.txt"])
    assert "out/a.txt" in found


async def test_a_later_verification_that_sees_the_object_makes_it_verified(
    env: Env, client, journal: Journal
) -> None:
    run_id = await completed_run(env, client, journal)
    locs = locations(journal, run_id)
    listing = Listing(locs[1:], "key-prefix")
    async with listing.client() as mock:
        await verify_run(mock, journal, run_id)
        assert journal.item(run_id, 0).state == "unverified"
        await verify_run(mock, journal, run_id)  # still not there: still unverified
        assert journal.item(run_id, 0).state == "unverified"
        listing.objects.add(locs[0])  # it shows up (a listing that lagged, a restore)
        assert await verify_run(mock, journal, run_id) == 1
    item = journal.item(run_id, 0)
    assert item.state == "verified" and item.error_message is None
    assert journal.counts(run_id)["verified"] == 5


async def test_an_earlier_version_s_verification_failure_is_looked_at_again(
    env: Env, client, journal: Journal
) -> None:
    """Journals written before the ``unverified`` state hold such items as ``failed`` with
    ``VERIFY_MISMATCH``: verification settles them as it settles unverified ones."""
    run_id = await completed_run(env, client, journal, 2)
    old = [
        (it.position, it.job_id or "", "failed", {"error_message": VERIFY_MISMATCH})
        for it in journal.items(run_id)
    ]
    journal.record_jobs(run_id, old)
    locs = locations(journal, run_id)
    listing = Listing(locs[:1], "folder-name")
    async with listing.client() as mock:
        assert await verify_run(mock, journal, run_id) == 1
    assert [it.state for it in journal.items(run_id)] == ["verified", "unverified"]
    assert retry_positions(journal, run_id) == []


async def test_the_client_passes_a_page_s_truncated_field_on(
    env: Env, client, journal: Journal
) -> None:
    run_id = await completed_run(env, client, journal)
    locs = locations(journal, run_id)
    listing = Listing(locs[:3], "folder-name", truncated=True)
    async with listing.client() as mock:
        await verify_run(mock, journal, run_id)
    assert journal.counts(run_id)["completed"] == 2  # not proven absent
