"""Secrets: the token never lands in a file the app writes, in its logs or on the terminal.

A distinctive token goes through everything a user does: `profiles add --token-stdin` (the one
place it is meant to be stored: tokens/<name>.token, mode 0600), a headless export with --wait,
`jobs list/report/watch`, a dry run (plan file), a failed sign-in with a wrong token, and the TUI
under a pty with `--debug` (signing in, browsing, the jobs screen). Then every file under
SBEXPORT_HOME and HOME (config, state, journal with its -wal/-shm files while they exist, logs,
reports, plans) and every byte the terminal received are searched for the token: zero hits.
"""

from __future__ import annotations

import logging
import os
import pty
import re
import select
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from .conftest import start_sim

pytestmark = pytest.mark.e2e

CANARY = "Qz7CANARY0tok0e2e5ecret0000Xy9Wv"  # the sim accepts it; nothing else may show it
WRONG = "Wr0ngCANARY0tok0never0valid00Zq3"  # a refused token is just as secret
SBX = [sys.executable, "-m", "sbexport_tui.cli"]
PROJECT = "demo/wgs-cohort"
VOLUME = "demo/us-east-results"
ALIGN = "batches/batch-01/S0101/alignments"
ANSI = re.compile(
    rb"\x1b\[[0-9;?<>=]*[ -/]*[@-~]|\x1b[()][0-9A-Za-z]|\x1b[=>78]|\x1b\][^\x07]*\x07"
)


def needles(token: str) -> list[bytes]:
    """The token, and its two halves (a display that shows part of it is a leak too)."""
    b = token.encode()
    return [b, b[:12], b[-12:]]


def hits(data: bytes) -> list[str]:
    flat = ANSI.sub(b"", data)
    found = []
    for token in (CANARY, WRONG):
        for n in needles(token):
            if n in data or n in flat:
                found.append(n.decode())
    return found


def scan_tree(roots: list[Path], *, exclude: Path, seen: set[str]) -> dict[str, list[str]]:
    """Every regular file under the roots (but ``exclude``) -> the needles found in it."""
    leaks: dict[str, list[str]] = {}
    for root in roots:
        if not root.exists():
            continue
        for dirpath, _dirs, files in os.walk(root):
            for name in files:
                path = Path(dirpath) / name
                if path == exclude:
                    continue
                try:
                    data = path.read_bytes()
                except OSError:  # a -wal/-shm file that went away between listing and reading
                    continue
                seen.add(str(path.relative_to(root)))
                found = hits(data)
                if found:
                    leaks[str(path)] = found
    return leaks


@pytest.fixture
def world(tmp_path: Path):
    sim = start_sim("--job-seconds", "0.5", token=CANARY)
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("SB_", "SBEXPORT_")) and k not in ("HOME",)
    }
    env.update(
        SBEXPORT_HOME=str(tmp_path / "sbx"),
        HOME=str(tmp_path / "home"),
        PYTHONUNBUFFERED="1",
        WRONGTOK=WRONG,
        TERM="xterm-256color",
        LANG="C.UTF-8",
        COLUMNS="100",
        LINES="30",
    )
    (tmp_path / "home").mkdir()
    yield sim, env, tmp_path
    sim.proc.terminate()
    try:
        sim.proc.wait(10)
    except subprocess.TimeoutExpired:
        sim.proc.kill()


def sbx(env, *args, input=None, timeout=90, cwd=None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [*SBX, *args],
        env=env,
        input=input,
        capture_output=True,
        timeout=timeout,
        cwd=cwd,
    )


def run_pty(env, argv, steps, *, cwd, timeout=40, during=None) -> bytes:
    """Run the TUI on a pty; ``steps`` are (text to wait for, keys to send) pairs. Returns every
    byte the terminal received. ``during`` is called while the app runs (after the last step)."""
    master, slave = pty.openpty()
    os.set_blocking(master, False)
    proc = subprocess.Popen(
        [*SBX, *argv],
        stdin=slave,
        stdout=slave,
        stderr=slave,
        env=env,
        cwd=cwd,
        start_new_session=True,
        close_fds=True,
    )
    os.close(slave)
    seen = b""

    def pump(until: bytes | None, seconds: float) -> bool:
        nonlocal seen
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 0.1)
            if ready:
                try:
                    seen += os.read(master, 65536)
                except OSError:
                    return False
            if until is not None and until in ANSI.sub(b"", seen):
                return True
        return until is None

    try:
        for text, keys in steps:
            assert pump(text.encode(), timeout), (text, ANSI.sub(b"", seen)[-1500:])
            for k in keys:
                os.write(master, k.encode() if isinstance(k, str) else k)
                pump(None, 0.3)
        pump(None, 1.0)
        if during is not None:
            during()
        os.write(master, b"\x11")  # Ctrl+Q
        deadline = time.monotonic() + 10
        while proc.poll() is None and time.monotonic() < deadline:
            pump(None, 0.2)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(10)
        os.close(master)
    return seen


def test_the_token_is_never_written_shown_or_logged(world):
    sim, env, tmp = world
    sbx_home, home = tmp / "sbx", tmp / "home"
    token_file = sbx_home / "config" / "tokens" / "lab.token"
    outputs: list[bytes] = []
    seen_files: set[str] = set()
    live_leaks: dict[str, list[str]] = {}

    def run(*args, **kw):
        r = sbx(env, *args, cwd=tmp, **kw)
        outputs.extend([r.stdout, r.stderr])
        return r

    # the token pasted once: stored 0600 in tokens/lab.token, and nowhere else
    r = run(
        "profiles",
        "add",
        "--name",
        "lab",
        "--region",
        sim.url,
        "--token-stdin",
        input=f"{CANARY}\n".encode(),
    )
    assert r.returncode == 0, r.stderr
    assert stat.S_IMODE(token_file.stat().st_mode) == 0o600
    assert token_file.read_text().strip() == CANARY
    r = run("profiles", "add", "--name", "wrong", "--region", sim.url, "--token-env", "WRONGTOK")
    assert r.returncode == 0, r.stderr
    assert run("profiles", "test", "lab").returncode == 0
    assert run("profiles", "show", "lab", "--json").returncode == 0
    assert run("profiles", "list").returncode == 0

    # a full export, watched to the end; the files are scanned while it runs (-wal, -shm)
    proc = subprocess.Popen(
        [*SBX, "export", "--profile", "lab", "--project", PROJECT, "--path", ALIGN,
         "--volume", VOLUME, "--wait", "--poll-interval", "0.3"],
        env=env, cwd=tmp, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    while proc.poll() is None:
        live_leaks.update(scan_tree([sbx_home, home], exclude=token_file, seen=seen_files))
        time.sleep(0.1)
    out, err = proc.communicate()
    outputs.extend([out, err])
    assert proc.returncode == 0, err
    assert run("export", "--profile", "lab", "--project", PROJECT, "--path", ALIGN, "--volume",
               VOLUME, "--location", "copy/{path}", "--dry-run").returncode == 0  # fmt: skip
    assert run("jobs", "list", "--json").returncode == 0
    assert run("jobs", "list", "--run", "1").returncode == 0
    assert run("jobs", "watch").returncode == 0
    assert run("jobs", "report", "--run", "1", "--output", str(tmp / "r1.csv")).returncode == 0
    assert run("jobs", "report", "--run", "1", "--output", str(home / "r1.json")).returncode == 0
    assert run("jobs", "retry", "--run", "1").returncode == 0

    # a failed sign-in: the refused token is not echoed either
    r = run("profiles", "test", "wrong")
    assert r.returncode == 3, r.stderr
    r = run("export", "--profile", "wrong", "--project", PROJECT, "--volume", VOLUME)
    assert r.returncode == 3, r.stderr

    # the TUI with --debug under a pty: sign in, browse, the jobs screen; and a refused sign-in
    def scan_live():
        live_leaks.update(scan_tree([sbx_home, home], exclude=token_file, seen=seen_files))

    screen = run_pty(
        env,
        ["--debug", "--no-mouse", "--profile", "lab"],
        [("WGS cohort", ["\r"]), ("nothing marked", ["J"]), ("demo/us-east-results", [])],
        cwd=tmp,
        during=scan_live,
    )
    outputs.append(screen)
    screen = run_pty(env, ["--debug", "--no-mouse", "--profile", "wrong"], [("401", [])], cwd=tmp)
    outputs.append(screen)

    # every file the app wrote, and everything printed
    leaks = scan_tree([sbx_home, home, tmp], exclude=token_file, seen=seen_files)
    leaks.update(live_leaks)
    assert not leaks, leaks
    printed = [hits(o) for o in outputs]
    assert not any(printed), printed
    assert CANARY not in (sbx_home / "config" / "profiles.toml").read_text()
    # the scan really covered the places that matter
    names = " ".join(sorted(seen_files))
    for expected in ("profiles.toml", "journal.sqlite3", "sbexport.log", "r1.json", "plan-"):
        assert expected in names, (expected, names)
    log_text = next(sbx_home.rglob("sbexport.log")).read_text()
    assert "HTTP Request" in log_text  # the debug log did record the traffic
    assert stat.S_IMODE(token_file.stat().st_mode) == 0o600


def test_a_token_file_others_can_read_is_reported(world):
    sim, env, tmp = world
    r = sbx(env, "profiles", "add", "--name", "lab", "--region", sim.url, "--token-stdin",
            input=f"{CANARY}\n".encode())  # fmt: skip
    assert r.returncode == 0, r.stderr
    token_file = tmp / "sbx" / "config" / "tokens" / "lab.token"
    r = sbx(env, "profiles", "list")
    assert b"warning" not in r.stderr  # 0600: nothing to say
    token_file.chmod(0o644)
    for args in (("profiles", "list"), ("profiles", "show", "lab")):
        r = sbx(env, *args)
        assert r.returncode == 0, r.stderr
        err = r.stderr.decode()
        assert "warning" in err and "lab.token" in err and "other users" in err, err
        assert "0644" in err
        assert not hits(r.stdout + r.stderr)
    profiles = tmp / "sbx" / "config" / "profiles.toml"
    profiles.chmod(0o644)
    r = sbx(env, "profiles", "list")
    assert "profiles.toml" in r.stderr.decode() and "other users" in r.stderr.decode()


# ---- the debug log ---------------------------------------------------------------------------
@pytest.fixture
def debug_log(tmp_path):
    from sbexport_tui.logsetup import enable_debug_log

    names = ("sbexport", "sbexport.api", "sbexport_tui", "httpx", "httpcore")
    before = {n: (logging.getLogger(n).level, list(logging.getLogger(n).handlers)) for n in names}
    path = enable_debug_log(tmp_path / "log")
    yield path
    for n, (level, handlers) in before.items():
        logger = logging.getLogger(n)
        for h in logger.handlers:
            if h not in handlers:
                h.close()
        logger.handlers = handlers
        logger.setLevel(level)


async def _one_retried_request(token: str) -> None:
    from sbexport_tui.api.client import PlatformClient, RetryPolicy
    from sbexport_tui.logsetup import register_secret

    calls = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        if len(calls) == 1:
            raise httpx.ReadError(f"boom {request.headers['x-sbg-auth-token']}")
        return httpx.Response(200, json={"username": "demo"})

    async def no_sleep(_: float) -> None:
        return None

    register_secret(token)
    client = PlatformClient(
        "https://api.example.test/v2",
        token,
        transport=httpx.MockTransport(handler),
        retry=RetryPolicy(attempts=3, backoff_base=0),
        sleep=no_sleep,
    )
    try:
        await client.get_user()
    finally:
        await client.aclose()


async def test_the_debug_log_redacts_a_token_that_reaches_a_message(debug_log):
    from sbexport_tui.logsetup import register_secret

    logging.getLogger("sbexport_tui.test").debug("header X-SBG-Auth-Token: %s", WRONG)
    register_secret(CANARY)  # as open_session does once the token is resolved
    logging.getLogger("sbexport_tui.test").debug("header X-SBG-Auth-Token: %s", CANARY)
    logging.getLogger("httpx").debug("echo %s", CANARY)
    await _one_retried_request(CANARY)
    text = debug_log.read_text()
    assert "<redacted>" in text
    assert not hits(text.encode())
    assert stat.S_IMODE(debug_log.stat().st_mode) == 0o600


async def test_the_debug_log_records_the_clients_retries(debug_log):
    await _one_retried_request(CANARY)
    text = debug_log.read_text()
    assert "the connection was dropped" in text or "network error" in text, text[-2000:]


# ---- a crash must not carry the token either --------------------------------------------------
def test_the_process_makes_no_core_dump_unless_debug(tmp_path):
    """RLIMIT_CORE 0 and not dumpable: a crash leaves no copy of the process's memory (and so
    of the token) on disk. --debug leaves the system's settings alone."""
    probe = (
        "import resource, sys\n"
        "from sbexport_tui import cli\n"
        "from sbexport_tui.hardening import is_dumpable\n"
        "sys.argv = ['sbexport'] + sys.argv[1:]\n"
        "try:\n"
        "    cli.main(sys.argv[1:])\n"
        "except SystemExit:\n"
        "    pass\n"
        "print('CORE', resource.getrlimit(resource.RLIMIT_CORE)[0], 'DUMPABLE', is_dumpable())\n"
    )
    env = {**os.environ, "SBEXPORT_HOME": str(tmp_path / "sbx")}

    def run(*args: str) -> str:
        out = subprocess.run(
            [sys.executable, "-c", probe, *args], env=env, capture_output=True, text=True
        ).stdout
        return out.strip().splitlines()[-1]

    assert run("profiles", "path") == "CORE 0 DUMPABLE False"
    debugged = run("profiles", "path", "--debug")
    assert "DUMPABLE True" in debugged


async def test_a_crash_in_the_tui_shows_no_local_variables(tmp_path):
    """Textual's crash traceback prints every frame's locals; one could hold a token."""
    from sbexport_tui.config.paths import Paths
    from sbexport_tui.session import demo_session
    from sbexport_tui.tui.app import SbexportApp
    from sbexport_tui.tui.screens.projects import ProjectsScreen

    app = SbexportApp(ProjectsScreen, demo=True, theme_name="textual-dark")
    app.session = demo_session(Paths.under(tmp_path / "home", demo=True))

    def explode() -> None:
        token = CANARY  # noqa: F841 (a local that Textual would print)
        raise RuntimeError("a bug")

    kept: list = []
    fatal = app._fatal_error

    def keep() -> None:  # what the app prints on exit, before it prints and clears it
        fatal()
        kept.extend(app._exit_renderables)

    app._fatal_error = keep  # type: ignore[method-assign]
    with pytest.raises(RuntimeError, match="a bug"):  # the test harness raises it again
        async with app.run_test(size=(80, 24)) as pilot:
            app.call_later(explode)
            await pilot.pause()
    shown = "".join(seg.text for group in kept for seg in group.segments)
    assert "RuntimeError" in shown and "a bug" in shown
    assert CANARY not in shown  # the source line names the variable, no value is printed
