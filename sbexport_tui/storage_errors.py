"""What to tell a person when local storage fails: the journal's disk is full, read-only,
damaged or locked, a folder cannot be made. One line: what is wrong, where, and what to do.

No Textual here: the headless commands and the app both use it.
"""

from __future__ import annotations

import errno
import os
import sqlite3
from pathlib import Path

EXIT_STORAGE = 5  # the exit code of the headless commands for these


def read_only_file_system(folder: Path) -> bool:
    """The file system holding ``folder`` (or its nearest existing parent) is mounted read-only:
    ext4 remounts itself so after a disk error, and every write then fails, whatever the
    permissions say."""
    for place in (folder, *folder.parents):
        try:
            return bool(os.statvfs(place).f_flag & os.ST_RDONLY)
        except FileNotFoundError:
            continue
        except (OSError, AttributeError):  # no statvfs (Windows), or it cannot be asked
            return False
    return False


def storage_message(
    exc: BaseException, journal: Path | None = None, *, file: Path | None = None
) -> str:
    """One line for a storage failure; ``journal`` names the journal file when it is involved.
    ``file``: the file being written when it is not the journal (a profile, a token file): it
    is named instead of the temporary file the error may name, and no export is involved."""
    text = str(exc).lower()
    code = getattr(exc, "errno", None)
    filename = getattr(exc, "filename", None)
    if journal is not None and isinstance(exc, sqlite3.Error):
        where, folder = f"the journal {journal}", journal.parent
    elif file is not None:
        where, folder = str(file), file.parent
    elif filename:
        where, folder = str(filename), Path(filename).parent
    else:
        where, folder = "a local file", None
    move = f" (SBEXPORT_HOME=/a/folder/with/room moves everything; now {folder})" if folder else ""
    recorded = (
        "" if file is not None else ". Nothing was sent that the journal could not record first"
    )
    if folder is not None and read_only_file_system(folder):
        return (
            f"the file system holding {folder} is now read-only (it may have been remounted "
            f"after a disk error): {where} cannot be written. Check the disk, or set "
            f"SBEXPORT_HOME=/a/writable/folder (on another disk){recorded}"
        )
    if code in (errno.ENOSPC, errno.EDQUOT) or "disk is full" in text or "no space" in text:
        if file is not None:
            kept = ""
        else:
            kept = (
                ". What was recorded is kept, and nothing was sent that the journal could not "
                "record first"
            )
        return (
            f"{where} cannot be written: the disk is full or your quota is used up. Free some "
            f"space and run again{move}{kept}"
        )
    if (
        code in (errno.EROFS, errno.EACCES, errno.EPERM)
        or "readonly" in text
        or "read-only" in (text)
    ):
        return (
            f"{where} cannot be written: the folder is read-only or not yours. Make it writable, "
            f"or point SBEXPORT_HOME at a folder you can write{move}{recorded}"
        )
    if "locked" in text or "busy" in text:
        return (
            f"{where} is locked by another sbexport (or another program) for too long: let it "
            "finish, or check `sbexport jobs list`, then run again"
        )
    if "malformed" in text or "not a database" in text or "corrupt" in text:
        broken = f"mv {journal} {journal}.broken" if journal is not None else "move it aside"
        return (
            f"{where} is damaged ({exc}). Move it aside ({broken}) and run again; runs recorded "
            "in it can then no longer be resumed, so check them on the Platform"
        )
    if code == errno.ENOTDIR:
        return (
            f"{where} cannot be made: part of that path is a file, not a folder. Set "
            "SBEXPORT_HOME to a folder you can write"
        )
    if code == errno.ENOENT or "unable to open" in text:
        return (
            f"{where} cannot be opened ({exc}): does its folder exist and can you write it? "
            "Set SBEXPORT_HOME to a writable folder"
        )
    return f"{where} cannot be used: {exc}. Check the disk and the folder's permissions"
