"""Who watches a run (``export.watchers``): a run's jobs are "watching" only while a live
process holds a watch lease on it; else "not watched since HH:MM" with their last known states
(issue 27, item 5: after `export --wait` stopped with Ctrl-C, `jobs list` said "watching ... 15
running" until someone ran `jobs watch`)."""

from __future__ import annotations

import os
import time

from sbexport_tui.export import Journal
from sbexport_tui.export.runner import submit_run
from sbexport_tui.export.watchers import (
    WATCH_LEASE_SECONDS,
    clock_text,
    run_view,
    this_watcher,
)
from sbexport_tui.export.watching import watch_pass

from .conftest import Env, small_plan

DEAD = f"{os.uname().nodename}:999999999:deadbeef"  # a process of this machine that has gone
ELSEWHERE = "compute-node-17:4242:cafef00d"  # a process on another host: alive until it lapses


async def sent_run(env: Env, journal: Journal) -> int:
    """Two files sent; their jobs (10 s) are pending."""
    run_id = journal.create_run(small_plan(env), profile="t")
    await submit_run(env.client(), journal, run_id)
    assert journal.counts(run_id)["pending"] == 2
    return run_id


def hm(ts: float) -> str:
    return time.strftime("%H:%M", time.localtime(ts))


async def test_a_pass_makes_the_run_watched_and_letting_go_makes_it_unwatched(env, journal):
    run_id = await sent_run(env, journal)
    run = journal.run(run_id)
    assert run.state == "watching"  # the journal's word: all sent, jobs open
    never = run_view(journal, run)
    # nobody has watched it: its states are those the sender recorded
    assert (never.state, never.watched) == ("unwatched", False)
    assert never.note == f"not watched since {hm(env.clock.now)}"

    env.clock.advance(0.5)  # the jobs are still pending
    await watch_pass(env.client(), journal, [run_id])
    view = run_view(journal, run)
    assert (view.state, view.note, view.watched) == ("watching", "", True)
    assert view.text == "watching"

    env.clock.advance(120.0)  # Ctrl-C: the front end lets go
    journal.unwatch_runs([run_id], this_watcher())
    after = run_view(journal, run)
    assert (after.state, after.watched) == ("unwatched", False)
    assert after.note == f"not watched since {hm(env.clock.now)}"
    assert after.last_seen == env.clock.now


async def test_a_watcher_that_died_on_this_machine_is_gone_at_once(env, journal):
    run_id = await sent_run(env, journal)
    journal.watch_runs([run_id], DEAD, 3600.0)
    assert run_view(journal, journal.run(run_id)).watched is False


async def test_a_watcher_on_another_host_counts_until_its_lease_lapses(env, journal):
    run_id = await sent_run(env, journal)
    journal.watch_runs([run_id], ELSEWHERE, WATCH_LEASE_SECONDS)
    assert run_view(journal, journal.run(run_id)).state == "watching"
    env.clock.advance(WATCH_LEASE_SECONDS + 1.0)
    view = run_view(journal, journal.run(run_id))
    assert view.state == "unwatched"
    assert view.note == f"not watched since {hm(env.clock.now - WATCH_LEASE_SECONDS - 1.0)}"


async def test_a_finished_run_is_shown_as_the_journal_says(env, journal):
    run_id = await sent_run(env, journal)
    env.clock.advance(100.0)
    await watch_pass(env.client(), journal, [run_id])
    journal.unwatch_runs([run_id], this_watcher())
    run = journal.run(run_id)
    assert run.state == "done"
    view = run_view(journal, run)
    assert (view.state, view.note, view.watched) == ("done", "", None)


async def test_a_run_whose_sender_died_is_stopped_not_submitting(env, journal):
    run_id = journal.create_run(small_plan(env), profile="t")
    journal.set_run_state(run_id, "submitting")
    assert journal.claim_run(run_id, DEAD, 600.0) is None  # as a killed `export` left it
    view = run_view(journal, journal.run(run_id))
    assert view.state == "stopped"
    assert view.note == f"stopped sending since {hm(env.clock.now)}"
    journal.claim_run(run_id, this_watcher(), 600.0)  # a live sender
    assert run_view(journal, journal.run(run_id)).state == "submitting"


def test_another_day_says_the_date():
    now = time.mktime((2027, 1, 15, 12, 0, 0, 0, 0, -1))
    assert clock_text(now - 3600, now) == "11:00"
    assert clock_text(now - 86400, now) == "2027-01-14 12:00"


async def test_a_run_keeps_the_spans_of_its_last_watchers_only(env, journal):
    run_id = await sent_run(env, journal)
    for i in range(30):
        env.clock.advance(1.0)
        journal.watch_runs([run_id], f"{DEAD}{i}", 10.0)
    spans = journal.watch_spans(run_id)
    assert len(spans) == 20 and spans[-1] == (env.clock.now, env.clock.now)
