#!/usr/bin/env bash
# Builds the core, plugins and tests with AddressSanitizer + UndefinedBehaviorSanitizer (the
# C++ runtime is linked dynamically there) and runs the unit, integration and escape suites once.
set -euo pipefail
cd "$(dirname "$0")/.."
cmake -S . -B build-sanitize -DCMAKE_BUILD_TYPE=Debug -DSANDLOCK_SANITIZE=ON -DSANDLOCK_BUILD_BENCH=OFF >/dev/null
cmake --build build-sanitize -j2 --target unit_tests integration_tests escape_tests
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
for suite in unit integration escape; do
  echo "test-sanitized: $suite"
  build-sanitize/bin/${suite}_tests --gtest_brief=1
done
