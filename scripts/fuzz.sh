#!/usr/bin/env bash
# Builds the libFuzzer harnesses (clang, ASan + UBSan) into build-fuzz/ and runs each for N
# seconds (default 30, what CI runs) on its corpus in tests/fuzz/corpus/<harness>/; new inputs
# that add coverage go to build-fuzz/corpus/<harness>/, crashes to build-fuzz/crashes/.
#   scripts/fuzz.sh [seconds] [harness...]
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-30}
shift || true
harnesses=("$@")
((${#harnesses[@]})) || harnesses=(profile_fuzz policy_json_fuzz cli_values_fuzz sockaddr_fuzz open_path_fuzz)

cmake -S . -B build-fuzz -DSANDLOCK_FUZZ=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ >/dev/null
cmake --build build-fuzz -j2 --target fuzz_harnesses

status=0
mkdir -p build-fuzz/crashes
for harness in "${harnesses[@]}"; do
  seeds=tests/fuzz/corpus/$harness
  work=build-fuzz/corpus/$harness
  mkdir -p "$work"
  echo "fuzz: $harness for ${seconds}s"
  if ! build-fuzz/bin/"$harness" -max_total_time="$seconds" -max_len=4096 -timeout=10 \
       -print_final_stats=1 -artifact_prefix=build-fuzz/crashes/"$harness"- "$work" "$seeds" \
       >build-fuzz/"$harness".log 2>&1; then
    echo "fuzz: $harness FAILED (see build-fuzz/$harness.log and build-fuzz/crashes/)"
    tail -n 30 build-fuzz/"$harness".log
    status=1
  fi
  grep -E "stat::number_of_executed_units|stat::peak_rss_mb" build-fuzz/"$harness".log | sed "s/^/fuzz: $harness /"
done
exit $status
