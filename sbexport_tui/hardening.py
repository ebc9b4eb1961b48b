"""Keep a crashed process from writing the token anywhere: no core dump, no ptrace peeking.

A token lives in this process's memory (it is sent on every request). A core dump would copy
it to disk, where a shared login node's disk is not private. So, unless ``--debug`` asks to
keep them, the process sets its core-file limit to 0 and, on Linux, marks itself not dumpable
(``PR_SET_DUMPABLE``, which also keeps other processes of the same user from attaching to it).
"""

from __future__ import annotations

import logging
import sys

log = logging.getLogger("sbexport")

PR_SET_DUMPABLE = 4
PR_GET_DUMPABLE = 3


def no_core_dumps() -> list[str]:
    """Apply what this platform allows; returns what was done (for the debug log and tests)."""
    done = []
    try:
        import resource

        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        done.append("RLIMIT_CORE=0")
    except (ImportError, ValueError, OSError) as e:  # not POSIX, or not allowed
        log.debug("could not turn core dumps off: %s", e)
    if sys.platform.startswith("linux"):
        try:
            import ctypes

            libc = ctypes.CDLL(None, use_errno=True)
            if libc.prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) == 0:
                done.append("PR_SET_DUMPABLE=0")
        except (OSError, AttributeError) as e:
            log.debug("could not mark the process not dumpable: %s", e)
    return done


def is_dumpable() -> bool | None:
    """Linux only: whether the process may dump core (None elsewhere)."""
    if not sys.platform.startswith("linux"):
        return None
    import ctypes

    return bool(ctypes.CDLL(None, use_errno=True).prctl(PR_GET_DUMPABLE, 0, 0, 0, 0))
