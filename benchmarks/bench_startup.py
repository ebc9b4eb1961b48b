"""Benchmark: how fast the command line starts, against ``python -c 'import textual.app'``.

Batch users call ``sbexport`` thousands of times from job scripts. Each command is started as a
fresh process (the installed ``sbexport`` script next to this Python), interleaved with the
baseline so that a busy machine slows both alike; the table gives medians and the ratio to the
baseline. ``jobs list`` reads an empty journal in a temporary SBEXPORT_HOME. Not a test: nothing
is asserted (tests/unit/misc/test_light_start.py checks what each command imports).

The TUI's first frame: ``sbexport --demo`` in a pseudo-terminal of 80x24, from the process's
start to the first frame's text on the terminal (the header's "sbexport"), and to the first
useful one (the demo's projects listed); then Ctrl+Q.

    python benchmarks/bench_startup.py [--runs 15] [--pyz dist/sbexport.pyz]
"""

from __future__ import annotations

import argparse
import fcntl
import os
import pty
import select
import shutil
import signal
import statistics
import struct
import subprocess
import sys
import tempfile
import termios
import time
from pathlib import Path


def timed(cmd: list[str], env: dict[str, str]) -> float:
    t0 = time.perf_counter()
    r = subprocess.run(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    took = time.perf_counter() - t0
    if r.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed: {r.stderr.decode()[-500:]}")
    return took


def first_frames(cmd: list[str], env: dict[str, str], marks: list[bytes]) -> list[float]:
    """Seconds from the start of ``cmd`` (in an 80x24 pseudo-terminal) until each of ``marks``
    has been written to the terminal; then the app is asked to quit (Ctrl+Q)."""
    pid, fd = pty.fork()
    if pid == 0:  # the child: the app on the terminal's other end
        os.execvpe(cmd[0], cmd, {**env, "TERM": "xterm-256color", "LANG": "C.UTF-8"})  # noqa: S606
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
    t0 = time.perf_counter()
    seen = b""
    at: list[float] = []
    try:
        while len(at) < len(marks):
            ready, _, _ = select.select([fd], [], [], 30.0)
            if not ready:
                raise SystemExit(f"{' '.join(cmd)}: no {marks[len(at)]!r} in 30 s")
            try:
                seen += os.read(fd, 65536)
            except OSError:  # the app ended
                raise SystemExit(f"{' '.join(cmd)} ended before {marks[len(at)]!r}") from None
            while len(at) < len(marks) and marks[len(at)] in seen:
                at.append(time.perf_counter() - t0)
        os.write(fd, b"\x11")  # Ctrl+Q
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            done, _ = os.waitpid(pid, os.WNOHANG)
            if done:
                break
            if select.select([fd], [], [], 0.1)[0]:
                try:
                    os.read(fd, 65536)
                except OSError:
                    pass
        else:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
    finally:
        os.close(fd)
    return at


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=15)
    ap.add_argument("--pyz", default=None, help="also time this sbexport.pyz (built beforehand)")
    args = ap.parse_args()
    exe = Path(sys.executable).with_name("sbexport")
    sbexport = [str(exe)] if exe.exists() else [sys.executable, "-m", "sbexport_tui.cli"]
    home = tempfile.mkdtemp(prefix="sbx-bench-")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SB_", "SBEXPORT_"))}
    env.update(SBEXPORT_HOME=home, PYTHONDONTWRITEBYTECODE="")
    env.pop("PYTHONDONTWRITEBYTECODE")
    baseline = [sys.executable, "-c", "import textual.app"]
    cases = {
        "--version": [*sbexport, "--version"],
        "--help": [*sbexport, "--help"],
        "jobs list": [*sbexport, "jobs", "list"],
    }
    if args.pyz:
        cases["pyz --version"] = [sys.executable, args.pyz, "--version"]
        cases["pyz jobs list"] = [sys.executable, args.pyz, "jobs", "list"]
    goals = {"--version": 0.3, "--help": 0.5, "jobs list": 0.5}
    for cmd in [baseline, *cases.values()]:  # warm the caches (.pyc, the pyz's unpacking)
        timed(cmd, env)
    base: list[float] = []
    took: dict[str, list[float]] = {k: [] for k in cases}
    for _ in range(args.runs):
        for name, cmd in cases.items():
            base.append(timed(baseline, env))
            took[name].append(timed(cmd, env))
    b = statistics.median(base)
    print(f"Python {sys.version.split()[0]}, {args.runs} runs each, medians")
    print(f"{'command':<16} {'ms':>7} {'x textual.app':>14} {'goal':>6}")
    print(f"{'import textual.app':<16} {b * 1000:7.0f} {1:14.2f} {'':>6}")
    for name, xs in took.items():
        m = statistics.median(xs)
        goal = goals.get(name)
        print(f"{name:<16} {m * 1000:7.0f} {m / b:14.2f} {(f'<={goal}' if goal else ''):>6}")
    frames: list[list[float]] = []
    demo = [*sbexport, "--demo", "--no-mouse"]
    first_frames(demo, env, [b"sbexport"])  # warm the caches
    for _ in range(max(1, args.runs // 3)):
        frames.append(first_frames(demo, env, [b"sbexport", b"WGS cohort 2026"]))
    first = statistics.median(f[0] for f in frames)
    useful = statistics.median(f[1] for f in frames)
    print(f"\nsbexport --demo at 80x24, medians of {len(frames)}")
    print(f"{'TUI first frame':<22} {first * 1000:7.0f} ms  goal <= 500 ms")
    print(f"{'projects listed':<22} {useful * 1000:7.0f} ms")
    shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    main()
