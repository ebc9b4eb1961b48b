#!/usr/bin/env bash
# Builds sbexport.pyz: one file to copy to a login node. It runs with any CPython 3.10-3.13 on
# x86-64 Linux (glibc 2.17 or newer): the compiled dependencies (pydantic-core, ...) are inside
# for each of those versions, side by side (their file names carry the version's ABI tag).
#
#   scripts/build-pyz.sh [OUT]          (default dist/sbexport.pyz; needs PyPI, once)
#
# Built with shiv (from PyPI). On its first start the file unpacks its libraries into a folder
# that must be writable and allow executables: $SHIV_ROOT, else $SBEXPORT_HOME/pyz, else
# ~/.cache/sbexport/pyz (see scripts/pyz_main.py). /tmp is never used, so a noexec /tmp is fine.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-dist/sbexport.pyz}
py=${PYTHON:-python3}
versions=(3.10 3.11 3.12 3.13)
platform=x86_64-manylinux_2_17  # manylinux2014: CentOS 7 and every newer distribution
work=$(mktemp -d "${TMPDIR:-/tmp}/sbexport-pyz.XXXXXX")
trap 'rm -rf "$work"' EXIT

"$py" -m venv "$work/tools"
"$work/tools/bin/python" -m pip install -q "shiv==1.0.8" "uv>=0.5"
"$work/tools/bin/python" -m pip wheel -q --no-deps -w "$work/wheel" .
wheel=$(ls "$work"/wheel/*.whl)

# one set of versions for every Python: resolve for the first, then pin the others to it. uv,
# not pip: pip judges the markers (`python_version < '3.11'`) by the Python it runs on, uv by the
# target's, so 3.10 gets its tomli and exceptiongroup.
for v in "${versions[@]}"; do
  pins=()
  [ -f "$work/pins.txt" ] && pins=(--constraint "$work/pins.txt")
  "$work/tools/bin/uv" pip install -q --target "$work/sp-$v" --only-binary :all: \
    --python-platform "$platform" --python-version "$v" "${pins[@]}" "$wheel"
  if [ ! -f "$work/pins.txt" ]; then
    for d in "$work/sp-$v"/*.dist-info; do
      n=$(basename "$d" .dist-info)
      echo "${n%-*}==${n##*-}"
    done >"$work/pins.txt"
  fi
done
mkdir -p "$work/site-packages"
for v in "${versions[@]}"; do
  rm -rf "$work/sp-$v/bin"
  cp -a -n "$work/sp-$v/." "$work/site-packages/"
done
# every version's compiled core must be there, or the file would fail on that Python
for v in "${versions[@]}"; do
  tag="cpython-${v/./}-x86_64-linux-gnu"
  if ! ls "$work"/site-packages/pydantic_core/*"$tag".so >/dev/null 2>&1; then
    echo "build-pyz: no pydantic-core for Python $v ($tag) in the bundle" >&2
    exit 1
  fi
done

mkdir -p "$(dirname "$out")"
"$work/tools/bin/shiv" --site-packages "$work/site-packages" -e sbexport_tui.cli:main \
  -p "/usr/bin/env python3" --reproducible --compressed -o "$out" >/dev/null
# shiv's own __main__ unpacks into ~/.shiv: ours picks a folder that works on a login node
# (writable, not noexec) first, and says plainly what it needs when there is none
"$work/tools/bin/python" scripts/pyz_main.py --install "$out"
chmod +x "$out"
echo "built $out ($(du -h "$out" | cut -f1), Python ${versions[*]})"
