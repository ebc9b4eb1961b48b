#!/usr/bin/env bash
# The fast suites (unit, sim, and tui where scope() says) on every CPython from 3.10 to 3.13
# that this machine has, each in its own fresh virtualenv with the wheel .ci/run built. Used by .ci/run:
#
#   scripts/ci-matrix.sh install WHEEL   make the virtualenvs (only the network and disk: it
#                                        can run while the full suite does)
#   scripts/ci-matrix.sh test            run the fast suite in each, print one line a version
#
# A version that is not on this machine is said plainly, never counted as passed. The
# version the full suite runs on (python3's) is skipped here.
set -uo pipefail
cd "$(dirname "$0")/.."

VERSIONS=(3.10 3.11 3.12 3.13)
WORK=${SBEXPORT_CI_MATRIX:-.ci-matrix}
# What each Python runs besides the full suite's: every module imported, and the unit and sim
# suites (the TUI's pilot tests run in the full suite: with them on 3.10 and 3.13 as well, an
# idle .ci/run took over 20 minutes on 2 cores).
# Tests marked `once` (snapshots, the benchmarks' smoke runs) are the same on every Python and
# run in the full suite only.
scope() { # the test folders version $1 runs
  case $1 in
    *) echo tests/unit tests/sim ;;
  esac
}
# every module of the package, the TUI's included, is imported on every version first
IMPORT_ALL='import importlib, pkgutil, sbexport_tui
names = [m.name for m in pkgutil.walk_packages(sbexport_tui.__path__, "sbexport_tui.")
         if not m.name.endswith("__main__")]
for n in names:
    importlib.import_module(n)
print(len(names), "modules imported")'

full_version() { python3 -c 'import sys; print("%d.%d" % sys.version_info[:2])'; }

find_python() { # the interpreter of version $1, or nothing
  local v=$1 p
  for p in "$(command -v "python$v" 2>/dev/null)" \
    "${PYENV_ROOT:-$HOME/.pyenv}"/versions/"$v".*/bin/"python$v" \
    /usr/local/bin/"python$v" /usr/bin/"python$v"; do
    [ -n "$p" ] && [ -x "$p" ] || continue
    if [ "$("$p" -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null)" = "$v" ]; then
      echo "$p"
      return 0
    fi
  done
  return 1
}

install() {
  local wheel=$1 full v py
  full=$(full_version)
  mkdir -p "$WORK"
  for v in "${VERSIONS[@]}"; do
    [ "$v" = "$full" ] && continue
    if ! py=$(find_python "$v"); then
      echo "missing" >"$WORK/$v.state"
      continue
    fi
    rm -rf "${WORK:?}/venv-$v"
    if "$py" -m venv "$WORK/venv-$v" >"$WORK/$v.install.log" 2>&1 &&
      "$WORK/venv-$v/bin/python" -m pip install -q "${wheel}[test]" >>"$WORK/$v.install.log" 2>&1; then
      echo "installed $py" >"$WORK/$v.state"
    else
      echo "install-failed $py" >"$WORK/$v.state"
    fi
  done
}

test_all() {
  local full v state status=0 summary=() line
  full=$(full_version)
  for v in "${VERSIONS[@]}"; do
    if [ "$v" = "$full" ]; then
      summary+=("Python $v: the full suite ran on it (above)")
      continue
    fi
    state=$(cat "$WORK/$v.state" 2>/dev/null || echo "missing")
    case $state in
      missing)
        summary+=("Python $v: not found on this machine: NOT TESTED")
        continue
        ;;
      install-failed*)
        summary+=("Python $v: the install failed (see $WORK/$v.install.log): FAILED")
        tail -20 "$WORK/$v.install.log"
        status=1
        continue
        ;;
    esac
    read -r -a fast <<<"$(scope "$v")"
    echo "== Python $v (${state#installed }): ${fast[*]}, not the 'once' tests"
    # the tests import the package from this tree; the venv holds the wheel's dependencies
    if ! "$WORK/venv-$v/bin/python" -c "$IMPORT_ALL" >"$WORK/$v.import.log" 2>&1; then
      tail -20 "$WORK/$v.import.log"
      summary+=("Python $v: importing every module FAILED")
      status=1
      continue
    fi
    if "$WORK/venv-$v/bin/python" -m pytest -q -n 4 --dist worksteal -p no:cacheprovider \
      -m "not once" "${fast[@]}" >"$WORK/$v.test.log" 2>&1; then
      line=$(grep -E '[0-9]+ passed' "$WORK/$v.test.log" | tail -1)
      summary+=("Python $v: ${fast[*]}: $line")
    else
      tail -40 "$WORK/$v.test.log"
      line=$(grep -E '[0-9]+ (passed|failed)' "$WORK/$v.test.log" | tail -1)
      summary+=("Python $v: ${fast[*]} FAILED: ${line:-no result}")
      status=1
    fi
  done
  echo "== the Python matrix"
  printf '%s\n' "${summary[@]}"
  return $status
}

case ${1:-} in
  install) install "${2:?the wheel to install}" ;;
  test) test_all ;;
  *)
    echo "usage: $0 install WHEEL | test" >&2
    exit 2
    ;;
esac
