"""The ways a user installs sbexport, each tried as they would: the wheel (and sdist) from
`python -m build` into a clean virtualenv, `pipx install .`, `uv tool install .`, and the
one-file `sbexport.pyz` from `scripts/build-pyz.sh` on every CPython 3.10-3.13 this machine has,
with /tmp noexec and $HOME read-only. Each runs `sbexport --version` and an export against the
sim from outside the source tree, so only what was installed is used.

They need PyPI (for the dependencies), as a user's first install does."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import venv
import zipfile
from pathlib import Path

import pytest

from .conftest import TOKEN, start_sim
from .tmux import TmuxApp

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
SUPPORTED = ("3.10", "3.11", "3.12", "3.13")
ALIGN = "batches/batch-01/S0101/alignments"
BAM = ("--project", "demo/wgs-cohort", "--path", ALIGN, "--glob", "S0101.bam")
BAM += ("--volume", "demo/us-east-results")
TOKEN_ENV = ("--token-env", "SIMTOK")


def run(cmd, env=None, cwd=None, timeout=600, check=True) -> subprocess.CompletedProcess:
    r = subprocess.run(
        [str(c) for c in cmd], env=env, cwd=cwd, capture_output=True, text=True, timeout=timeout
    )
    if check:
        assert r.returncode == 0, f"{cmd}: {r.returncode}\n{r.stdout[-3000:]}\n{r.stderr[-3000:]}"
    return r


def user_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """A user's environment: their own home and sbexport home, nothing of this tree on the
    path, the sim's token in SIMTOK."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("SB_", "SBEXPORT_", "PYTHON", "VIRTUAL_ENV"))
    }
    (tmp_path / "home").mkdir(parents=True, exist_ok=True)
    env.update(
        HOME=str(tmp_path / "home"),
        SBEXPORT_HOME=str(tmp_path / "sbx"),
        SIMTOK=TOKEN,
        PYTHONUNBUFFERED="1",
        COLUMNS="100",
    )
    env.update(extra)
    return env


def exports_against_the_sim(sbexport: tuple[str, ...], env: dict[str, str], cwd: Path) -> None:
    """`sbexport --version`, then a profile on `sbexport sim` (started from the same install)
    and a real export of a BAM and its BAI, waited for and verified."""
    r = run([*sbexport, "--version"], env=env, cwd=cwd)
    assert r.stdout.startswith("sbexport "), r.stdout
    server = start_sim("--job-seconds", "0.2", command=sbexport, env=env)
    try:
        run(
            [*sbexport, "profiles", "add", "--name", "sim", "--region", server.url, *TOKEN_ENV],
            env=env,
            cwd=cwd,
        )
        dry = run(
            [*sbexport, "export", *BAM, "--dry-run"],
            env=env,
            cwd=cwd,
        )
        assert json.loads(dry.stdout) and "S0101.bam.bai" in dry.stdout, dry.stdout
        r = run(
            [*sbexport, "export", *BAM, "--wait", "--poll-interval", "0.3", "--json"],
            env=env,
            cwd=cwd,
            timeout=180,
        )
        assert json.loads(r.stdout)["counts"]["verified"] == 2, r.stdout  # the BAM and its BAI
    finally:
        server.proc.terminate()
        server.proc.wait(10)


def find_python(version: str) -> str | None:
    """The interpreter of ``version`` in pyenv's versions folder or on PATH (where a pyenv shim
    may exist and fail), checked by running it."""
    root = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv")) / "versions"
    candidates = [str(d / "bin" / f"python{version}") for d in sorted(root.glob(f"{version}.*"))]
    candidates.append(shutil.which(f"python{version}") or "")
    for p in candidates:
        if not p or not os.access(p, os.X_OK):
            continue
        r = subprocess.run(
            [p, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
            capture_output=True,
            text=True,
        )
        if r.returncode == 0 and r.stdout.strip() == version:
            return p
    return None


def test_wheel_and_sdist_build_carry_the_styles_and_the_wheel_installs_and_exports(tmp_path):
    dist = tmp_path / "dist"
    run([sys.executable, "-m", "build", "--outdir", dist, ROOT], timeout=900)
    wheels, sdists = list(dist.glob("*.whl")), list(dist.glob("*.tar.gz"))
    assert len(wheels) == 1 and len(sdists) == 1, list(dist.iterdir())
    names = set(zipfile.ZipFile(wheels[0]).namelist())
    package = ROOT / "sbexport_tui"
    wanted = {
        p.relative_to(ROOT).as_posix()
        for p in package.rglob("*")
        if p.suffix in (".py", ".tcss") and "__pycache__" not in p.parts
    }
    assert any(n.endswith(".tcss") for n in wanted)
    assert wanted <= names, sorted(wanted - names)  # every module and every style sheet
    meta = next(n for n in names if n.endswith(".dist-info/METADATA"))
    text = zipfile.ZipFile(wheels[0]).read(meta).decode()
    assert "Requires-Python: >=3.10" in text and "Programming Language :: Python :: 3.13" in text
    assert any(n.endswith("licenses/LICENSE") or n.endswith("/LICENSE") for n in names)

    env = user_env(tmp_path)
    venv.create(tmp_path / "venv", with_pip=True)
    py = tmp_path / "venv" / "bin" / "python"
    run([py, "-m", "pip", "install", "-q", wheels[0]], env=env, timeout=900)
    exports_against_the_sim((str(tmp_path / "venv" / "bin" / "sbexport"),), env, tmp_path)


@pytest.mark.parametrize("tool", ["pipx", "uv"])
def test_pipx_and_uv_tool_install_give_a_working_sbexport(tmp_path, tool):
    bin_dir = tmp_path / "bin"
    env = user_env(
        tmp_path,
        PIPX_HOME=str(tmp_path / "pipx"),
        PIPX_BIN_DIR=str(bin_dir),
        UV_TOOL_DIR=str(tmp_path / "uv-tools"),
        UV_TOOL_BIN_DIR=str(bin_dir),
        PATH=f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
    )
    # the tool's own cache stays the user's: a first install downloads, as a user's would
    for k in ("XDG_CACHE_HOME", "UV_CACHE_DIR", "PIP_CACHE_DIR"):
        if k in os.environ:
            env[k] = os.environ[k]
    tools = Path(sys.executable).parent
    if tool == "pipx":
        run([tools / "pipx", "install", ROOT], env=env, cwd=tmp_path, timeout=900)
    else:
        run(
            [tools / "uv", "tool", "install", "--python", sys.executable, ROOT],
            env=env,
            cwd=tmp_path,
            timeout=900,
        )
    exe = bin_dir / "sbexport"
    assert exe.exists(), list(bin_dir.iterdir()) if bin_dir.exists() else "no bin folder"
    exports_against_the_sim((str(exe),), env, tmp_path)


def build_pyz(tmp_path: Path) -> Path:
    out = tmp_path / "dist" / "sbexport.pyz"
    r = run([ROOT / "scripts" / "build-pyz.sh", out], cwd=ROOT, timeout=900)
    assert out.exists(), r.stdout + r.stderr
    return out


def test_the_pyz(tmp_path):
    """Built once (about a minute), then tried as a login node's user would."""
    pyz = build_pyz(tmp_path)
    assert pyz.stat().st_size < 40_000_000
    exports_against_the_sim((sys.executable, str(pyz)), user_env(tmp_path / "export"), tmp_path)
    shows_the_projects_in_tmux(pyz, tmp_path / "tmux")
    untried = [
        runs_with_tmp_noexec_and_home_read_only(pyz, tmp_path / "noexec"),
        runs_on_every_supported_python(pyz, tmp_path / "pythons"),
    ]
    if any(untried):  # said in the summary, never a silent pass
        pytest.skip("; ".join(u for u in untried if u))


def runs_on_every_supported_python(pyz: Path, tmp_path: Path) -> str | None:
    missing = []
    for version in SUPPORTED:
        py = find_python(version)
        if py is None:
            missing.append(version)
            continue
        env = user_env(tmp_path / version)
        r = run([py, pyz, "--version"], env=env, cwd=tmp_path)
        assert r.stdout.startswith("sbexport "), (version, r.stdout, r.stderr)
    return f"no interpreter here for Python {', '.join(missing)}" if missing else None


def shows_the_projects_in_tmux(pyz: Path, tmp_path: Path) -> None:
    if shutil.which("tmux") is None:
        pytest.fail("tmux is not installed (.ci/run installs it)")
    env = user_env(tmp_path)
    t = TmuxApp(
        {k: env[k] for k in ("HOME", "SBEXPORT_HOME", "PATH")},
        "--demo",
        command=(sys.executable, str(pyz)),
    )
    try:
        t.wait_for("Signed in as demo", timeout=60)
        t.wait_for("WGS cohort 2026")
        t.footer("esc Back f1 Help")
        t.keys("C-q")
        t.wait_for("__EXIT_0", timeout=15)
    finally:
        t.kill()


def runs_with_tmp_noexec_and_home_read_only(pyz: Path, tmp_path: Path) -> str | None:
    """A login node's worst case, in a mount namespace: /tmp noexec and $HOME read-only. With
    SBEXPORT_HOME on a writable folder that allows programs it runs; without one, or with one
    on a noexec mount, it says what it needs, with no traceback."""
    if shutil.which("unshare") is None or os.geteuid() != 0:
        return "noexec /tmp not tried: needs root and unshare for a mount namespace"
    home, scratch, out = tmp_path / "home", tmp_path / "scratch", tmp_path / "out"
    for d in (home, scratch, out):
        d.mkdir(parents=True)
    py = os.path.realpath(sys.executable)  # a venv's link may itself lie under /tmp
    on_tmp = f"/tmp/sbexport-noexec-{os.getpid()}-{tmp_path.name}"
    script = f"""set -e
mount --bind /tmp /tmp; mount -o remount,bind,noexec /tmp
mount --bind {home} {home}; mount -o remount,bind,ro {home}
mount -t tmpfs tmpfs {scratch}
if touch {home}/x 2>/dev/null; then echo "HOME is writable"; exit 3; fi
HOME={home} {py} {pyz} --version > {out}/bare 2>&1 || true
HOME={home} SBEXPORT_HOME={on_tmp} {py} {pyz} --version > {out}/noexec 2>&1 || true
HOME={home} TMPDIR=/tmp SBEXPORT_HOME={scratch} {py} {pyz} --version
test -d {scratch}/pyz
"""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SBEXPORT_", "SHIV_"))}
    env.pop("XDG_CACHE_HOME", None)
    try:
        r = run(["unshare", "-m", "sh", "-c", script], env=env, timeout=300, check=False)
    finally:
        shutil.rmtree(on_tmp, ignore_errors=True)
    if r.returncode != 0 and "Operation not permitted" in r.stderr:
        return f"noexec /tmp not tried: no mount namespace here ({r.stderr.strip()})"
    assert r.returncode == 0, r.stdout + r.stderr
    assert r.stdout.startswith("sbexport "), r.stdout
    bare, noexec = (out / "bare").read_text(), (out / "noexec").read_text()
    assert "Traceback" not in bare + noexec
    assert "cannot write there" in bare and "export SBEXPORT_HOME=" in bare, bare
    assert "noexec mount" in noexec and "export SBEXPORT_HOME=" in noexec, noexec
    return None
