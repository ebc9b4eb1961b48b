"""A retry to another volume (issue 27, item 7): files a volume refused (9027: it is in another
region) are sent, as a new run, to the volume chosen; an item that may have been exported is
never sent elsewhere."""

from __future__ import annotations

from collections import Counter

import pytest

from sbexport_tui.export import ExportOptions, Journal, build_plan, poll_run, submit_run
from sbexport_tui.export.plan import prepare_plan
from sbexport_tui.export.retry import RetryError, plan_retry, retry_positions
from sbexport_tui.sim import BASE_URL_INPROCESS

from .conftest import TODAY, Env

WGS = "demo/wgs-cohort"  # aws:us-east-1
EAST = "demo/us-east-results"
WEST = "demo/us-west-scratch"  # an S3 bucket in us-west-2: the Platform refuses it (9027)
QC = "batches/batch-01/S0101/qc"


async def rejected_run(env: Env, journal: Journal, client, n: int = 3) -> int:
    """A run of ``n`` files of a us-east-1 project to the us-west-2 volume: all rejected."""
    sel = env.folder_files(WGS, QC, n)
    plan = build_plan(sel, env.volume(WEST), ExportOptions(WEST), today=TODAY)
    run_id = journal.create_run(plan, profile="demo", api_base_url=BASE_URL_INPROCESS)
    await submit_run(client, journal, run_id)
    assert {i.state for i in journal.items(run_id)} == {"rejected"}
    assert {i.error_code for i in journal.items(run_id)} == {9027}
    assert not env.world.exports  # no job was made: proven by the Platform's refusal
    return run_id


async def test_rejected_items_go_to_the_volume_chosen_as_a_new_run_each_sent_once(tmp_path):
    env = Env(tmp_path)
    client, journal = env.client(), env.journal()
    run_id = await rejected_run(env, journal, client)
    positions = retry_positions(journal, run_id)

    # the same volume would refuse them again: the retry asks for the volume first
    same = await plan_retry(client, journal, run_id, positions)
    assert same.volume.id == WEST and not same.elsewhere
    assert same.offers_volume and same.wrong_volume and same.codes == {9027: 3}

    retry = await plan_retry(client, journal, run_id, positions, volume_id=EAST)
    assert retry.volume.id == EAST and retry.options.volume == EAST and retry.elsewhere
    assert retry.title == f"Retry of run {run_id}: 3 item(s) to {EAST} (not {WEST})"
    plan = await prepare_plan(client, retry.selection, retry.volume, retry.options, today=TODAY)
    assert plan.volume_id == EAST and plan.exportable_count == 3
    assert plan.headline().endswith(f"will be copied to {EAST}")

    again = journal.create_run(plan, profile="demo", retry_of=retry.origin())
    assert again != run_id
    assert journal.run(again).options["retry_of"] == {"run": run_id, "volume": WEST, "items": 3}
    await submit_run(client, journal, again)
    env.clock.advance(60)
    await poll_run(client, journal, again)
    assert journal.counts(again)["completed"] == 3

    # exactly once: one job per file, each on the volume chosen, each its item's first send
    assert Counter(env.jobs_per_file().values()) == Counter({1: 3})
    assert {job.volume_id for job in env.world.exports.values()} == {EAST}
    sends = journal.sends(again)
    assert [len(s) for s in sends.values()] == [1, 1, 1]
    assert {why for s in sends.values() for _, why in s} == {"first send"}
    # the earlier run keeps its history: its items stay rejected, never sent
    assert {i.state for i in journal.items(run_id)} == {"rejected"}
    assert [len(s) for s in journal.sends(run_id).values()] == [1, 1, 1]  # its first sends only
    journal.close()


async def test_an_item_that_may_have_been_exported_is_never_sent_elsewhere(tmp_path):
    """An unknown item (its job cannot be seen: it may have completed) or an unverified one
    goes to its own volume only; asked for another, nothing is looked up or sent."""
    env = Env(tmp_path)
    client, journal = env.client(), env.journal()
    run_id = await rejected_run(env, journal, client)
    first, *rest = retry_positions(journal, run_id)
    journal.hold_unknown(run_id, [(first, "the answer was lost")])
    everything = retry_positions(journal, run_id, states=("rejected", "unknown"))
    asked = len(env.hook.paths)
    with pytest.raises(RetryError, match="unknown: their export to demo/us-west-scratch may"):
        await plan_retry(client, journal, run_id, everything, volume_id=EAST)
    assert len(env.hook.paths) == asked  # refused before any request

    # its own volume: allowed (the new plan lists the volume, where its object is skipped)
    retry = await plan_retry(client, journal, run_id, everything)
    assert not retry.offers_volume and retry.volume_fixed is not None
    with pytest.raises(RetryError, match=f"cannot retry to {EAST}"):
        retry.to_volume(env.volume(EAST))
    # the rejected ones by themselves may go elsewhere
    alone = await plan_retry(client, journal, run_id, rest)
    assert alone.offers_volume
    assert alone.to_volume(env.volume(EAST)).volume.id == EAST
    assert not env.world.exports
    journal.close()
