"""What kind of file system a path lives on: local, or shared over the network.

On HPC the home directory (and so the journal) is usually on NFS or a parallel file system,
shared by the login node and the compute nodes. SQLite's WAL mode keeps its index in shared
memory, which one host cannot share with another, so a journal there must use a rollback
journal and the file system's own locks. Linux only (``/proc/self/mountinfo``); elsewhere the
type is unknown and the journal keeps WAL unless ``SBEXPORT_JOURNAL_MODE`` says otherwise.
"""

from __future__ import annotations

import os
from pathlib import Path

MOUNTINFO = "/proc/self/mountinfo"

# File systems reached over a network or shared between hosts (including cluster file systems
# on shared disks): WAL's shared memory does not reach the other hosts on any of them.
NETWORK_TYPES = frozenset(
    {
        "9p",
        "afs",
        "beegfs",
        "ceph",
        "cifs",
        "cvfs",
        "davfs",
        "gfs2",
        "glusterfs",
        "gpfs",
        "lustre",
        "ncpfs",
        "nfs",
        "nfs4",
        "ocfs2",
        "orangefs",
        "panfs",
        "pvfs2",
        "quobyte",
        "smb3",
        "smbfs",
        "sshfs",
        "wekafs",
    }
)
# FUSE file systems say what they are after the dot (fuse.sshfs, fuse.glusterfs, ...).
NETWORK_FUSE = frozenset(
    {"sshfs", "glusterfs", "ceph", "s3fs", "rclone", "gcsfuse", "quobyte", "cvmfs", "juicefs"}
)

JOURNAL_MODE_ENV = "SBEXPORT_JOURNAL_MODE"  # auto (default), wal, or delete


def _unescape(field: str) -> str:
    """Mount points in mountinfo escape space, tab, newline and backslash as octal."""
    out, i = [], 0
    while i < len(field):
        if field[i] == "\\" and i + 4 <= len(field) and field[i + 1 : i + 4].isdigit():
            out.append(chr(int(field[i + 1 : i + 4], 8)))
            i += 4
        else:
            out.append(field[i])
            i += 1
    return "".join(out)


def parse_mountinfo(text: str) -> list[tuple[str, str]]:
    """(mount point, file system type) of each line of a mountinfo file, in its order."""
    mounts = []
    for line in text.splitlines():
        left, sep, right = line.partition(" - ")
        fields, tail = left.split(), right.split()
        if not sep or len(fields) < 5 or not tail:
            continue
        mounts.append((_unescape(fields[4]), tail[0]))
    return mounts


def _existing(path: Path) -> Path:
    """The path itself, or its nearest parent that exists (the journal may not exist yet)."""
    path = Path(os.path.abspath(path))
    while not path.exists() and path != path.parent:
        path = path.parent
    return Path(os.path.realpath(path))


def filesystem_type(path: Path | str, mountinfo: str | None = None) -> str | None:
    """The type of the file system holding ``path`` (``nfs4``, ``ext4`` ...), or None when it
    cannot be told. The last mount at the longest matching mount point wins, as in the kernel."""
    if mountinfo is None:
        try:
            mountinfo = Path(MOUNTINFO).read_text(encoding="utf-8", errors="replace")
        except OSError:
            return None
    target = str(_existing(Path(path)))
    best: tuple[int, str] | None = None
    for point, fstype in parse_mountinfo(mountinfo):
        inside = target == point or target.startswith(point.rstrip("/") + "/")
        if inside and (best is None or len(point) >= best[0]):
            best = (len(point), fstype)
    return best[1] if best else None


def is_network_type(fstype: str | None) -> bool:
    if not fstype:
        return False
    if fstype.startswith("fuse."):
        return fstype[5:] in NETWORK_FUSE
    return fstype in NETWORK_TYPES


def journal_mode_for(path: Path | str, mountinfo: str | None = None) -> tuple[str, str]:
    """The SQLite journal mode for a journal at ``path`` and why: ``("wal", ...)`` on a local
    file system, ``("delete", ...)`` on a network one. ``SBEXPORT_JOURNAL_MODE`` (``wal`` or
    ``delete``) overrides the detection."""
    wanted = os.environ.get(JOURNAL_MODE_ENV, "auto").strip().lower() or "auto"
    if wanted in ("wal", "delete"):
        return wanted, f"{JOURNAL_MODE_ENV}={wanted}"
    if wanted != "auto":
        raise ValueError(
            f"{JOURNAL_MODE_ENV} must be auto, wal or delete (got {wanted[:20]!r}); "
            "unset it to let sbexport choose"
        )
    fstype = filesystem_type(path, mountinfo)
    if is_network_type(fstype):
        return "delete", f"the journal is on a network file system ({fstype})"
    return "wal", f"the journal is on a local file system ({fstype or 'type unknown'})"


__all__ = [
    "JOURNAL_MODE_ENV",
    "NETWORK_TYPES",
    "filesystem_type",
    "is_network_type",
    "journal_mode_for",
    "parse_mountinfo",
]
