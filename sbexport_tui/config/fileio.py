"""Careful small-file I/O: bounded reads, atomic private writes, permission checks."""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from pathlib import Path

from .errors import ConfigError, ConfigWarning
from .paths import make_private_dir

MAX_CONFIG_BYTES = 1024 * 1024
"""No profiles, state or credentials file needs more; bigger ones are refused unread."""

MAX_TOKEN_BYTES = 64 * 1024

IS_POSIX = os.name == "posix"


def read_text(path: Path, *, what: str, limit: int = MAX_CONFIG_BYTES) -> str:
    """Read a small UTF-8 text file. Raises `ConfigError` (naming the file) for a missing file, a
    folder or device, a file over `limit` bytes, unreadable or non-UTF-8 (binary) content."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        raise ConfigError(f"the {what} does not exist", file=path) from None
    except OSError as e:
        raise ConfigError(f"the {what} cannot be read ({e.strerror})", file=path) from None
    if not stat.S_ISREG(st.st_mode):
        raise ConfigError(
            f"the {what} is not a regular file", fix="Replace it with a text file", file=path
        )
    if st.st_size > limit:
        raise ConfigError(
            f"the {what} is {st.st_size} bytes, more than the {limit} bytes allowed",
            fix="This is not a file sbexport wrote; move it away and start again",
            file=path,
        )
    try:
        with open(path, "rb") as f:
            data = f.read(limit + 1)
    except OSError as e:
        raise ConfigError(f"the {what} cannot be read ({e.strerror})", file=path) from None
    if len(data) > limit:
        raise ConfigError(f"the {what} grew past {limit} bytes while being read", file=path)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise ConfigError(
            f"the {what} is not UTF-8 text (byte {e.start} is not valid); it may be a binary file",
            fix="Move it away and start again, or save it as UTF-8",
            file=path,
        ) from None
    if "\x00" in text:
        raise ConfigError(
            f"the {what} contains NUL bytes; it is a binary file",
            fix="Move it away and start again",
            file=path,
        )
    return text.removeprefix("\ufeff")


def atomic_write(path: Path, data: bytes, *, mode: int = 0o600) -> None:
    """Write `data` to `path` so a reader sees the old file or the new one, never a mix.

    The temporary file is created in the same folder with mode 0600 and set to `mode` before any
    byte is written; then fsync and `os.replace`. On any error the temporary file is removed.
    """
    make_private_dir(path.parent)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        if hasattr(os, "fchmod"):
            os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as f:
            fd = -1
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if fd >= 0:
            os.close(fd)
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    _fsync_dir(path.parent)


def _fsync_dir(folder: Path) -> None:
    if not IS_POSIX:
        return
    try:
        dfd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(dfd)
    except OSError:
        pass
    finally:
        os.close(dfd)


def readable_by_others(path: Path) -> int | None:
    """The file's permission bits if group or others may read it, else None (also on Windows and
    for missing files)."""
    if not IS_POSIX:
        return None
    try:
        st = os.stat(path)
    except OSError:
        return None
    bits = stat.S_IMODE(st.st_mode)
    return bits if bits & 0o044 else None


def permission_warning(path: Path, what: str) -> ConfigWarning | None:
    bits = readable_by_others(path)
    if bits is None:
        return None
    return ConfigWarning(
        f"{path}: the {what} can be read by other users (mode {bits:04o})",
        path=path,
        fix=f"Run: chmod 600 '{path}'",
    )
