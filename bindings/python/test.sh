#!/usr/bin/env bash
# Checks and tests the Python binding against a liblane build tree.
#   bindings/python/test.sh [BUILD_DIR]     (default: ../../build from this script)
# Makes a fresh virtual environment under BUILD_DIR, pip-installs the package
# with its dev extra (pytest, mypy, prometheus_client, matplotlib; bounds in
# pyproject.toml), runs mypy --strict over it and pytest against the
# installed copy with LIBLANE_PATH=BUILD_DIR/liblane.so. Exits non-zero on
# the first failure.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
build="${1:-$here/../../build}"
build="$(cd "$build" && pwd)"
if [ ! -e "$build/liblane.so" ]; then
  echo "python binding: no liblane.so in $build (build liblane first)" >&2
  exit 1
fi
py="${PYTHON:-python3}"
venv="$build/python-venv"
rm -rf "$venv"
echo "python binding: virtual environment in $venv ($("$py" --version 2>&1))"
if ! "$py" -m venv "$venv"; then
  echo "python binding: '$py -m venv' failed (on Debian's own python3: apt-get install python3-venv)" >&2
  exit 1
fi
echo "python binding: pip install .[dev]"
# setuptools builds in the source tree: leave nothing of an older build in the wheel.
rm -rf "$here/build" "$here/src/liblane.egg-info"
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check "$here[dev]"

export LIBLANE_PATH="$build/liblane.so"
cd "$here"
echo "python binding: mypy --strict"
"$venv/bin/python" -m mypy --strict --cache-dir "$venv/mypy-cache" src/liblane tests
echo "python binding: pytest"
"$venv/bin/python" -m pytest -p no:cacheprovider -q -rs tests
echo "python binding: ok"
