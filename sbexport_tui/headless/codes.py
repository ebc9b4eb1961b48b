"""Exit codes, their text and the outage wait: standard library only, so that the parser
(`sbexport --help`) reads them without loading the engine."""

from __future__ import annotations

EXIT_OK = 0
EXIT_INCOMPLETE = 1
EXIT_USAGE = 2
EXIT_AUTH = 3
EXIT_NETWORK = 4
EXIT_INTERRUPTED = 130
EXIT_PIPE = 141  # 128 + SIGPIPE: what a shell sees of any tool whose reader went away

EXIT_CODES_TEXT = """\
exit codes:
  0    all exported (every selected file has its export job, finished when --wait)
  1    some files failed, were rejected or skipped, or were not seen on the volume after
       their jobs completed (unverified); the output says which and why
  2    usage or configuration error (bad option, unknown profile/project/volume, --move
       without --yes, nothing selected)
  3    authentication: the token was refused
  4    network or Platform unavailable after retries (while waiting: for longer
       than --give-up-after)
  5    local storage: the journal or its folder cannot be written (disk full, read-only,
       damaged, locked); nothing is sent that the journal could not record first
  130  interrupted (Ctrl-C or SIGTERM): the journal keeps everything;
       resume with: sbexport jobs watch --run ID
  141  the output's reader went away (| head): ended quietly, as a shell tool does"""

# How long a waiting command (--wait, jobs watch) waits out a network or Platform outage before
# it gives up with exit 4 (--give-up-after): longer than most sbatch time limits.
GIVE_UP_AFTER = 6 * 3600.0
ON_DONE_TIMEOUT = 60.0  # seconds `--on-done`'s command is waited for, by default


def span(seconds: float) -> str:
    """A duration for a log line: ``45s``, ``2m10s``, ``2m``, ``1h05m``, ``6h``."""
    total = max(0, round(seconds))
    if total < 60:
        return f"{total}s"
    if total < 3600:
        m, s = divmod(total, 60)
        return f"{m}m{s:02d}s" if s else f"{m}m"
    h, rest = divmod(total, 3600)
    m = round(rest / 60)
    if m == 60:
        h, m = h + 1, 0
    return f"{h}h{m:02d}m" if m else f"{h}h"
