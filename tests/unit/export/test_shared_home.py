"""A home directory on a network file system (NFS on HPC), shared by the login node and the
compute nodes: the journal uses a rollback journal there, and the run's lease works between
hosts (host, pid and a heartbeat). One machine can test the detection, the rollback mode under
two processes, and a lease held by another host."""

from __future__ import annotations

import asyncio
import os
import sqlite3
import subprocess
import sys
import textwrap
from collections import Counter

import pytest

from sbexport_tui import fsinfo
from sbexport_tui.export import runner
from sbexport_tui.export.journal import Journal, JournalError
from sbexport_tui.export.runner import RunBusy, submit_run

from .conftest import make_lease_run, small_plan

MOUNTINFO = textwrap.dedent(
    r"""
    22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw
    25 22 0:22 / /proc rw,nosuid - proc proc rw
    40 22 0:40 / /home rw,relatime shared:20 - nfs4 fs1:/export/home rw,vers=4.2
    41 40 0:41 / /home/ana/fast\040scratch rw - xfs /dev/sdb1 rw
    42 22 0:42 / /lustre rw - lustre 10.0.0.1@o2ib:/fs rw
    43 22 0:43 / /mnt/remote rw - fuse.sshfs ana@host:/data rw
    44 22 0:44 / /mnt/local-fuse rw - fuse.ntfs-3g /dev/sdc1 rw
    45 22 0:45 / /tmp rw - tmpfs tmpfs rw
    """
)


@pytest.mark.parametrize(
    ("path", "fstype", "mode"),
    [
        ("/home/ana/.local/state/sbexport/journal.sqlite3", "nfs4", "delete"),
        ("/home/ana/fast scratch/journal.sqlite3", "xfs", "wal"),  # a local disk under NFS
        ("/lustre/project/journal.sqlite3", "lustre", "delete"),
        ("/mnt/remote/journal.sqlite3", "fuse.sshfs", "delete"),
        ("/mnt/local-fuse/journal.sqlite3", "fuse.ntfs-3g", "wal"),
        ("/tmp/journal.sqlite3", "tmpfs", "wal"),
        ("/var/lib/journal.sqlite3", "ext4", "wal"),
    ],
)
def test_the_file_system_decides_the_journal_mode(monkeypatch, path, fstype, mode):
    monkeypatch.delenv(fsinfo.JOURNAL_MODE_ENV, raising=False)
    monkeypatch.setattr(fsinfo, "_existing", lambda p: p)  # these paths exist on the fake host
    assert fsinfo.filesystem_type(path, MOUNTINFO) == fstype
    got, why = fsinfo.journal_mode_for(path, MOUNTINFO)
    assert got == mode
    assert fstype in why


def test_the_environment_overrides_the_detection(monkeypatch):
    monkeypatch.setattr(fsinfo, "_existing", lambda p: p)
    monkeypatch.setenv(fsinfo.JOURNAL_MODE_ENV, "wal")
    assert fsinfo.journal_mode_for("/home/ana/j", MOUNTINFO)[0] == "wal"
    monkeypatch.setenv(fsinfo.JOURNAL_MODE_ENV, "DELETE")
    assert fsinfo.journal_mode_for("/tmp/j", MOUNTINFO)[0] == "delete"
    monkeypatch.setenv(fsinfo.JOURNAL_MODE_ENV, "nfs-please")
    with pytest.raises(ValueError, match="must be auto, wal or delete"):
        fsinfo.journal_mode_for("/tmp/j", MOUNTINFO)


def test_without_mountinfo_the_type_is_unknown_and_wal_stays(tmp_path, monkeypatch):
    monkeypatch.delenv(fsinfo.JOURNAL_MODE_ENV, raising=False)
    monkeypatch.setattr(fsinfo, "MOUNTINFO", str(tmp_path / "no-such-file"))
    assert fsinfo.filesystem_type(tmp_path) is None
    assert fsinfo.journal_mode_for(tmp_path / "j.sqlite3")[0] == "wal"


def test_a_journal_on_nfs_uses_a_rollback_journal(env, tmp_path, monkeypatch):
    """The real detection, on a mount table that puts the test's folder on NFS."""
    monkeypatch.delenv(fsinfo.JOURNAL_MODE_ENV, raising=False)
    fake = tmp_path / "mountinfo"
    fake.write_text(
        "22 1 8:1 / / rw - ext4 /dev/sda1 rw\n"
        f"40 22 0:40 / {tmp_path} rw - nfs4 fs1:/export/home rw\n"
    )
    monkeypatch.setattr(fsinfo, "MOUNTINFO", str(fake))
    path = tmp_path / "state" / "journal.sqlite3"  # its folder does not exist yet
    journal = Journal(path)
    assert journal.journal_mode == "delete"
    journal.create_run(small_plan(env))
    assert not path.with_name(path.name + "-wal").exists()
    journal.close()
    # a journal made in WAL mode (before the home moved to NFS) is switched on opening
    local = tmp_path / "local.sqlite3"
    Journal(local, mode="wal").close()
    assert Journal(local).journal_mode == "delete"


def test_a_bad_journal_mode_setting_is_one_clear_error(tmp_path, monkeypatch):
    monkeypatch.setenv(fsinfo.JOURNAL_MODE_ENV, "fast")
    with pytest.raises(JournalError, match="SBEXPORT_JOURNAL_MODE must be auto, wal or delete"):
        Journal(tmp_path / "j.sqlite3")


WORKER = textwrap.dedent(
    """
    import sys
    from sbexport_tui.export.journal import Journal
    path, run_id, rounds = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    j = Journal(path)
    assert j.journal_mode == "delete", j.journal_mode
    owner = f"worker-{run_id}"
    planned = [i.position for i in j.items(run_id) if i.state == "planned"]
    for n in range(rounds):
        assert j.claim_run(run_id, owner, 60) is None
        j.mark_submitting(run_id, planned)
        j.clear_to_send(run_id, planned, "the test's proof")
        j.release_run(run_id, owner)
        j.counts(3 - run_id)  # read the other process's run while it writes
    print("done", rounds)
    """
)


def test_the_rollback_journal_under_two_processes(env, tmp_path):
    """Two processes writing one journal in rollback mode, side by side: no 'database is
    locked', no lost write, and an intact file."""
    path = tmp_path / "journal.sqlite3"
    journal = Journal(path, mode="delete")
    runs = [journal.create_run(small_plan(env)) for _ in range(2)]
    assert runs == [1, 2]
    journal.close()
    script = tmp_path / "worker.py"
    script.write_text(WORKER)
    environ = {**os.environ, fsinfo.JOURNAL_MODE_ENV: "delete"}
    procs = [
        subprocess.Popen(
            [sys.executable, str(script), str(path), str(run_id), "150"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=environ,
        )
        for run_id in runs
    ]
    outs = [p.communicate(timeout=120) for p in procs]
    for p, (out, err) in zip(procs, outs, strict=True):
        assert p.returncode == 0, err
        assert out.strip() == "done 150"
    db = sqlite3.connect(path)
    assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    assert db.execute("PRAGMA journal_mode").fetchone() == ("delete",)
    states = Counter(s for (s,) in db.execute("SELECT state FROM items"))
    assert states == Counter({"planned": 4, "skipped": 4})
    assert db.execute("SELECT COUNT(*) FROM leases").fetchone() == (0,)
    db.close()


# ---- the lease between hosts ----


async def test_a_lease_held_by_another_host_is_respected_until_it_lapses(tmp_path):
    platform, client, journal, run_id = await make_lease_run(tmp_path, n=10)
    now = [1_900_000_000.0]
    clocked = Journal(journal.path, clock=lambda: now[0])
    other_host = "compute-node-17:4242:0a1b2c3d"  # its pid cannot be checked from here
    assert clocked.claim_run(run_id, other_host, runner.LEASE_SECONDS) is None
    with pytest.raises(RunBusy) as e:
        await submit_run(client, clocked, run_id)
    text = str(e.value)
    assert "process 4242 on compute-node-17" in text and "nothing was sent" in text
    assert "lapses at" in text
    assert platform.world.exports == {}
    # its heartbeat stopped (the node died): once the lease lapses, this host takes over
    now[0] += runner.LEASE_SECONDS + 1
    result = await submit_run(client, clocked, run_id)
    assert result.chunks == 1 and len(platform.world.exports) == 10


async def test_the_heartbeat_keeps_the_lease_through_a_long_wait(tmp_path, monkeypatch):
    """A sender stuck in one long call (a rate-limit wait) keeps its lease by its heartbeat,
    so a process on another host cannot take the run over and send it twice."""
    monkeypatch.setattr(runner, "LEASE_SECONDS", 0.6)
    monkeypatch.setattr(runner, "HEARTBEAT_SECONDS", 0.1)
    platform, client, journal, run_id = await make_lease_run(tmp_path, n=10)
    gate = asyncio.Event()
    original = client.bulk_create_exports

    async def slow(items, **kw):
        await gate.wait()  # much longer than the lease
        return await original(items, **kw)

    client.bulk_create_exports = slow  # type: ignore[method-assign]
    first = asyncio.ensure_future(submit_run(client, journal, run_id))
    other = Journal(journal.path)
    for _ in range(4):
        await asyncio.sleep(0.5)
        assert other.claim_run(run_id, "login-node:77:ffffffff", runner.LEASE_SECONDS) is not None
    gate.set()
    result = await first
    assert result.chunks == 1 and len(platform.world.exports) == 10
    assert other.lease_expires(run_id) is None  # released at the end


async def test_a_sender_whose_lease_was_taken_stops_sending(tmp_path, monkeypatch):
    """If another host takes the run over (this one's heartbeat could not reach the journal),
    this one stops before its next chunk instead of sending alongside."""
    monkeypatch.setattr(runner, "HEARTBEAT_SECONDS", 3600)
    platform, client, journal, run_id = await make_lease_run(tmp_path, n=250)
    original = client.bulk_create_exports
    calls = 0

    async def steal_after_first(items, **kw):
        nonlocal calls
        calls += 1
        out = await original(items, **kw)
        if calls == 1:  # another host's process takes the lease over
            journal._db.execute(
                "UPDATE leases SET owner = 'compute-node-3:99:abcdabcd' WHERE run_id = ?",
                (run_id,),
            )
        return out

    client.bulk_create_exports = steal_after_first  # type: ignore[method-assign]
    with pytest.raises(RunBusy, match="taken over by another sbexport"):
        await submit_run(client, journal, run_id)
    assert calls == 1 and len(platform.world.exports) == 100
    counts = journal.counts(run_id)
    assert counts["planned"] == 150 and counts["submitting"] == 0
