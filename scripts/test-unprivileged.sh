#!/usr/bin/env bash
# Runs the test suites as an unprivileged user (uid/gid 65534), as our users run sandlock.
# The test binaries find sandlock, plugins and helpers relative to themselves, so a copy of
# build/bin and build/lib in a world-readable directory is all that user needs.
set -euo pipefail
build=$(realpath "${1:-build}")
if [[ $(id -u) -ne 0 ]]; then
  echo "test-unprivileged: already unprivileged; the main run covers it"
  exit 0
fi
copy=$(mktemp -d /tmp/sandlock-unprivileged.XXXXXX)
trap 'rm -rf "$copy"' EXIT
cp -a "$build/bin" "$build/lib" "$copy/"
chmod -R a+rX "$copy"
cd /tmp
for suite in unit integration cli escape; do
  echo "test-unprivileged: $suite as uid 65534"
  setpriv --reuid=65534 --regid=65534 --clear-groups env HOME=/tmp "$copy/bin/${suite}_tests" --gtest_brief=1
done
