#!/usr/bin/env bash
# The Python package's pytest suite (tests/python) against the build tree's package
# (build/python), as this user and, when that is root, again as uid 65534 from a world-readable
# copy of build/{python,lib,bin} and the tests.
set -euo pipefail
build=$(realpath "${1:-build}")
tree=$(realpath "$(dirname "$0")/..")
python=$(cat "$build/python/interpreter")  # the one the module is built for
[[ -x $python ]] || { echo "test-python: $build/python/interpreter names no interpreter" >&2; exit 1; }
export PYTHONDONTWRITEBYTECODE=1
echo "test-python: as $(id -un)"
PYTHONPATH="$build/python" "$python" -m pytest -q -p no:cacheprovider "$tree/tests/python"
if [[ $(id -u) -ne 0 ]]; then
  exit 0
fi
copy=$(mktemp -d /tmp/sandlock-python.XXXXXX)
trap 'rm -rf "$copy"' EXIT
cp -a "$build/python" "$build/lib" "$build/bin" "$copy/"
cp -a "$tree/tests/python" "$copy/tests"
chmod -R a+rX "$copy"
echo "test-python: as uid 65534"
cd /tmp
setpriv --reuid=65534 --regid=65534 --clear-groups env HOME=/tmp PYTHONPATH="$copy/python" \
  "$python" -m pytest -q -p no:cacheprovider "$copy/tests"
