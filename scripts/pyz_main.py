# sbexport.pyz's __main__: choose where the file unpacks its libraries, then hand over to
# shiv's bootstrap. Standard library only: nothing of the bundle is importable yet.
#
# `python scripts/pyz_main.py --install FILE.pyz` puts this file into a pyz built by shiv
# (scripts/build-pyz.sh does it).
import os
import sys

SUPPORTED = ((3, 10), (3, 13))
NEEDS = (
    "Set SBEXPORT_HOME to a folder you can write to and that allows programs to run "
    "(not a noexec mount), for example on scratch:\n"
    "  export SBEXPORT_HOME=/scratch/$USER/sbexport\n"
    "(sbexport keeps its profiles and journal there too). Or set SHIV_ROOT to such a "
    "folder for the unpacked libraries alone."
)


def _fail(text):
    sys.stderr.write("sbexport.pyz: " + text + "\n")
    sys.exit(2)


def _root():
    """$SHIV_ROOT, else $SBEXPORT_HOME/pyz, else ~/.cache/sbexport/pyz (never /tmp, which
    login nodes often mount noexec)."""
    if os.environ.get("SHIV_ROOT"):
        return os.environ["SHIV_ROOT"]
    if os.environ.get("SBEXPORT_HOME"):
        return os.path.join(os.environ["SBEXPORT_HOME"], "pyz")
    cache = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(cache, "sbexport", "pyz")


def _check(root):
    try:
        os.makedirs(root, exist_ok=True)
        probe = os.path.join(root, f".write-test-{os.getpid()}")
        with open(probe, "w"):
            pass
        os.remove(probe)
    except OSError as e:
        _fail(
            f"it unpacks its libraries once, into {root}, and cannot write there "
            f"({e.strerror or e}).\n{NEEDS}"
        )
    noexec = getattr(os, "ST_NOEXEC", 8)
    try:
        if os.statvfs(root).f_flag & noexec:
            _fail(
                f"it unpacks its libraries into {root}, but that folder is on a noexec "
                f"mount, where they cannot be loaded.\n{NEEDS}"
            )
    except OSError:
        pass  # no statvfs: try, and let the import say what went wrong


def main():
    if not (SUPPORTED[0] <= sys.version_info[:2] <= SUPPORTED[1]):
        _fail(
            "it runs on CPython {}.{} to {}.{}, and this is {}.{} ({}). Run it with one of "
            "those, for example: python3.12 sbexport.pyz".format(
                *SUPPORTED[0], *SUPPORTED[1], *sys.version_info[:2], sys.executable
            )
        )
    if sys.platform != "linux" or os.uname().machine != "x86_64":
        _fail(
            f"it carries libraries for x86-64 Linux only, and this is {sys.platform}/"
            f"{os.uname().machine}. Install with pip instead (see the README)."
        )
    root = _root()
    _check(root)
    os.environ["SHIV_ROOT"] = root
    import _bootstrap  # shiv's, inside the archive

    _bootstrap.bootstrap()


def _install(pyz):
    """Replace the shiv-made __main__.py of ``pyz`` with this file, keeping its shebang."""
    import zipfile

    with open(pyz, "rb") as f:
        data = f.read()
    shebang = data.split(b"\n", 1)[0] + b"\n" if data.startswith(b"#!") else b""
    with open(__file__, "rb") as f:
        me = f.read()
    tmp = pyz + ".tmp"
    with zipfile.ZipFile(pyz) as src, open(tmp, "wb") as out:
        out.write(shebang)
        with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as dst:
            for info in src.infolist():
                body = me if info.filename == "__main__.py" else src.read(info)
                dst.writestr(info, body)
    os.replace(tmp, pyz)


if __name__ == "__main__":
    # the build runs this file itself; inside the archive, __file__ is not a file of its own
    if os.path.isfile(__file__) and len(sys.argv) == 3 and sys.argv[1] == "--install":
        _install(sys.argv[2])
    else:
        main()
