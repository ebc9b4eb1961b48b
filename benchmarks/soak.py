"""The long fault soak: 10,000 export jobs, >= 20 SIGKILLs, 10% faults. Prints a counts table.

    python benchmarks/soak.py [--seed 5] [--kills 24] [--workdir DIR] [--untrusted ahead|behind]

Three runs against one ``sbexport sim`` (faults 5xx/reset/timeout 10% in all, rare 429 storms and
maintenance windows): the 5,000-file folder ``scatter-gather/chunks`` of ``demo/wgs-cohort`` to
``{project}/{path}`` on ``demo/us-east-results`` (5,000 jobs), chunks 10-4999 to ``copy2/{path}``
(4,990 jobs), then chunks 0-19 to ``copy2/{path}`` again (10 new jobs, 10 skipped because their
keys exist). The demo world has one 5,000-file folder, so the second 5,000 are the same files to a
second destination: every (file, key) must still get exactly one export job.

The exporting process is SIGKILLed at seeded random moments and resumed with ``sbexport jobs
watch`` (or the same export again when the kill came before its run was in the journal). At the
end the journal (``jobs list --json``), the reports (``jobs report --output x.json``) and the
simulator's own record (``GET /_sim/exports``) must agree; see ``tests/e2e/soaklib.py``.
Exit status 0 when every invariant holds, 1 otherwise.

``--untrusted ahead|behind`` runs it through answers that cannot be trusted as well: the
Platform's clock 5 minutes ahead of (or behind) this machine, bulk answers out of order, one job
id for two items, ids from the previous answer, 9008 for jobs that exist, and jobs ending in a
state the docs do not list (ABORTED, nothing written: such a file may be exported again later).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.e2e.soaklib import long_config, run_soak, untrusted_config


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seed", type=int, default=5)
    p.add_argument("--kills", type=int, default=24)
    p.add_argument("--workdir", type=Path, default=None, help="keep the files here")
    p.add_argument("--quiet", action="store_true", help="no line per process")
    p.add_argument(
        "--untrusted",
        choices=("ahead", "behind"),
        help="also skew the Platform's clock by 5 minutes and garble its answers",
    )
    args = p.parse_args()
    cfg = long_config(seed=args.seed, kills=args.kills)
    if args.untrusted:
        garbled = untrusted_config(clock=f"clock-{args.untrusted}")
        cfg.variants = garbled.variants
        cfg.faults = {**cfg.faults, **garbled.faults}
        print(f"untrusted: variants {', '.join(cfg.variants)}", flush=True)
    cfg.verbose = not args.quiet
    with tempfile.TemporaryDirectory(prefix="sbexport-soak-") as tmp:
        workdir = args.workdir or Path(tmp)
        print(
            f"soak: seed {cfg.seed}, {cfg.kills} kills, faults "
            + ", ".join(f"{k}={v}" for k, v in cfg.faults.items())
            + f", job seconds {cfg.job_seconds:g}, workdir {workdir}",
            flush=True,
        )
        result = run_soak(workdir, cfg)
        print()
        print(result.table())
        for problem in result.problems:
            print(f"PROBLEM: {problem}")
        print("OK: nothing lost, nothing doubled" if not result.problems else "FAILED")
        return 0 if not result.problems else 1


if __name__ == "__main__":
    sys.exit(main())
