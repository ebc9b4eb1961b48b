"""One process at a time submits a run: a second one is refused, nothing is sent twice."""

from __future__ import annotations

import asyncio
import os

import pytest

from sbexport_tui.api.client import PlatformClient
from sbexport_tui.export.journal import Journal, JournalError, lease_alive
from sbexport_tui.export.runner import RunBusy, submit_run
from sbexport_tui.sim import BASE_URL_INPROCESS, SimTransport

from .conftest import LEASE_TOKEN as TOKEN
from .conftest import SlowCreate, made_per_item, make_lease_run


@pytest.mark.parametrize(("direction", "n"), [("export", 250), ("import", 50)])
async def test_a_second_submitter_is_refused_and_nothing_is_sent_twice(tmp_path, direction, n):
    started = asyncio.Event()
    platform, client, journal, run_id = await make_lease_run(
        tmp_path, n, started=started, direction=direction
    )
    other = Journal(tmp_path / "journal.sqlite3")  # another process's connection
    other_client = PlatformClient(
        BASE_URL_INPROCESS, TOKEN, transport=SlowCreate(SimTransport(platform))
    )

    async def later():
        await started.wait()  # the first holds the lease and is mid-request
        return await submit_run(other_client, other, run_id)

    first, second = await asyncio.gather(
        submit_run(client, journal, run_id), later(), return_exceptions=True
    )
    assert not isinstance(first, BaseException), first
    assert isinstance(second, RunBusy)
    assert "nothing was sent" in str(second)
    per_item = made_per_item(platform, direction)
    assert len(per_item) == n and max(per_item.values()) == 1
    # once the first is done, the lease is free again: a resume finds nothing left to send
    again = await submit_run(other_client, other, run_id)
    assert again.chunks == 0
    assert sum(made_per_item(platform, direction).values()) == n


@pytest.mark.parametrize("direction", ["export", "import"])
async def test_the_lease_of_a_process_that_died_is_taken_over_at_once(tmp_path, direction):
    platform, client, journal, run_id = await make_lease_run(tmp_path, n=10, direction=direction)
    dead = f"{os.uname().nodename}:999999999:deadbeef"
    assert not lease_alive(dead)
    assert journal.claim_run(run_id, dead, 600) is None  # as if a killed process held it
    result = await submit_run(client, journal, run_id)
    assert result.chunks == 1 and sum(made_per_item(platform, direction).values()) == 10


def test_mark_submitting_takes_only_planned_items(tmp_path):
    async def go():
        return await make_lease_run(tmp_path, n=3)

    _platform, _client, journal, run_id = asyncio.run(go())
    journal.mark_submitting(run_id, [0])
    with pytest.raises(JournalError, match="taken by another sbexport"):
        journal.mark_submitting(run_id, [0, 1])
    assert journal.counts(run_id)["submitting"] == 1  # nothing half-done
    with pytest.raises(JournalError, match=r"run \d+: 1 item\(s\) were taken"):
        journal.mark_submitting(run_id, [1, 1])  # one item named twice is not taken twice
    assert journal.counts(run_id)["submitting"] == 1 and journal.counts(run_id)["planned"] == 2


def test_mark_submitting_takes_a_thousand_items_at_once_or_none(tmp_path):
    """The items are checked in statements of 500: all of 1,200 are taken, each send logged
    once; with one of them taken before, none is."""
    from .test_open_jobs_view import make_run

    with Journal(tmp_path / "journal.db") as journal:
        run_id = make_run(journal, 1_300, "a")
        journal.mark_submitting(run_id, [1_250])
        with pytest.raises(JournalError, match="1 item"):
            journal.mark_submitting(run_id, list(range(1_000, 1_300)) + list(range(700)))
        assert journal.counts(run_id)["submitting"] == 1
        journal.mark_submitting(run_id, list(range(1_200)))
        assert journal.counts(run_id)["submitting"] == 1_201
        sends = journal._query("SELECT position, COUNT(*) FROM sends GROUP BY position")
        assert len(sends) == 1_201 and {n for _, n in sends} == {1}


def test_a_journal_that_cannot_be_opened_says_so(tmp_path):
    (tmp_path / "dir.sqlite3").mkdir()
    with pytest.raises(JournalError, match=r"cannot open the journal|not a usable"):
        Journal(tmp_path / "dir.sqlite3")
