#!/usr/bin/env bash
# Sets up a fresh Debian 12 machine and runs every test: the runtime check, the out-of-tree SDK
# example, the sanitizer build, the suites as an unprivileged user, the Python package's suite
# (root and uid 65534), the fuzzers (30 s each), and
# last the whole suite.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
# A skip must come from `sandlock check` reporting the feature missing (feature_check.hpp).
if grep -rn 'GTEST_SKIP' tests | grep -v '^tests/support/feature_check.hpp:'; then
  echo "test.sh: the GTEST_SKIP above does not ask sandlock check; use SANDLOCK_SKIP_UNLESS_AVAILABLE" >&2
  exit 1
fi
scripts/check-runtime.sh build
scripts/check-completion.sh build
scripts/build-sdk-example.sh build  # not executable = a failure, never a silent skip
scripts/check-installed-library.sh build
scripts/check-packages.sh build-deb
scripts/test-sanitized.sh
scripts/test-unprivileged.sh build
scripts/test-python.sh build
scripts/fuzz.sh 30  # each libFuzzer harness for 30 s on its corpus
cd build && ctest --output-on-failure -j2
