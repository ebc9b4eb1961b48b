"""Local storage failures in one line that says what to do: a file system remounted read-only
after a disk error, and a read-only home for `sbexport profiles add`."""

from __future__ import annotations

import errno
import io
import os
import sqlite3
from pathlib import Path
from types import SimpleNamespace

import pytest

from sbexport_tui import cli
from sbexport_tui.storage_errors import storage_message


def mounted_read_only(monkeypatch: pytest.MonkeyPatch, read_only: bool) -> None:
    """os.statvfs as on a file system that ext4 remounted read-only (or not)."""
    flag = os.ST_RDONLY if read_only else 0
    monkeypatch.setattr(os, "statvfs", lambda path: SimpleNamespace(f_flag=flag))


def test_a_disk_io_error_on_a_read_only_file_system_says_so(tmp_path, monkeypatch):
    journal = tmp_path / "state" / "journal.sqlite3"  # the folder need not exist
    error = sqlite3.OperationalError("disk I/O error")
    mounted_read_only(monkeypatch, False)
    assert "now read-only" not in storage_message(error, journal)  # a plain disk I/O error
    mounted_read_only(monkeypatch, True)
    message = storage_message(error, journal)
    assert message.startswith(
        f"the file system holding {journal.parent} is now read-only (it may have been remounted "
        f"after a disk error): the journal {journal} cannot be written"
    )
    assert "SBEXPORT_HOME=/a/writable/folder" in message
    assert "Check the disk and the folder's permissions" not in message
    # an OSError that names its file, as the journal's folder being made would raise
    made = OSError(errno.EIO, "Input/output error", str(tmp_path / "state"))
    assert "now read-only" in storage_message(made)


def test_read_only_is_asked_of_the_nearest_folder_that_exists(tmp_path, monkeypatch):
    from sbexport_tui.storage_errors import read_only_file_system

    asked: list[str] = []

    def statvfs(path):
        asked.append(str(path))
        if not Path(path).exists():
            raise FileNotFoundError(path)
        return SimpleNamespace(f_flag=os.ST_RDONLY)

    monkeypatch.setattr(os, "statvfs", statvfs)
    assert read_only_file_system(tmp_path / "a" / "b")
    assert asked[-1] == str(tmp_path)


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for k in list(os.environ):
        if k.startswith(("SB_", "SBEXPORT_")):
            monkeypatch.delenv(k)
    monkeypatch.setenv("SBEXPORT_HOME", str(tmp_path / "sbx"))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    return tmp_path / "sbx"


def read_only_writes(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every atomic write fails as on a read-only home (chmod does not stop root)."""
    import tempfile

    def mkstemp(*args, dir=None, **kw):
        raise OSError(errno.EROFS, "Read-only file system", str(Path(dir) / ".x.tmp"))

    monkeypatch.setattr(tempfile, "mkstemp", mkstemp)


@pytest.mark.parametrize(
    ("source", "written"),
    [(["--token-env", "LABTOK"], "profiles.toml"), (["--token-stdin"], "lab.token")],
)
def test_profiles_add_on_a_read_only_home_is_one_line_of_advice(
    home, capsys, monkeypatch, source, written
):
    monkeypatch.setattr("sys.stdin", io.StringIO("a" * 32 + "\n"))
    read_only_writes(monkeypatch)
    code = cli.main(["profiles", "add", "--name", "lab", "--region", "aws-us", *source])
    out, err = capsys.readouterr()
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert code == 5, err
    assert len(lines) == 1 and ": error: " in lines[0], err
    line = lines[0]
    assert "[Errno" not in line and ".tmp" not in line
    assert f"{written} cannot be written: the folder is read-only or not yours" in line
    assert "SBEXPORT_HOME=" in line
    assert "journal" not in line  # nothing of an export is involved
    assert "a" * 32 not in out + err
