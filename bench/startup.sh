#!/usr/bin/env bash
# Start-up benchmark: sandlock against baselines measured in the same run (this machine is
# noisy: compare ratios, never absolute times alone). Needs hyperfine and bubblewrap
# (scripts/setup.sh installs both). Usage: bench/startup.sh [BUILD_DIR] [RUNS]
set -euo pipefail
build=$(realpath "${1:-build}")
runs=${2:-300}
sandlock="$build/bin/sandlock"
system=(-r /usr -r /lib -r /lib64 -r /bin -r /etc)
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

commands=(
  "/bin/true"
  "$build/bin/forkexec /bin/true"
  "bwrap --ro-bind /usr /usr --ro-bind /lib /lib --ro-bind /lib64 /lib64 --ro-bind /bin /bin --ro-bind /etc /etc /bin/true"
  "$sandlock run ${system[*]} -- /bin/true"
)
names=("bare /bin/true" "fork+exec floor" "bubblewrap" "sandlock (landlock+seccomp)")
if [[ -f "$build/lib/sandlock/plugins/notif.so" ]]; then
  commands+=("$sandlock run ${system[*]} -r /proc -m 256M -P 64 -- /bin/true")
  names+=("sandlock (+notif: -r /proc -m 256M -P 64)")
fi

if [[ -n ${3:-} ]]; then
  other="$(realpath "$3")/bin/sandlock"
  commands+=("$other run ${system[*]} -- /bin/true" "$other run ${system[*]} -r /proc -m 256M -P 64 -- /bin/true")
  names+=("other build (landlock+seccomp)" "other build (+notif)")
fi

hyperfine -N --style none --warmup 30 --runs "$runs" --export-json "$out/results.json" "${commands[@]}" >/dev/null

python3 - "$out/results.json" "${names[@]}" <<'PY'
import json, sys
results = json.load(open(sys.argv[1]))["results"]
names = sys.argv[2:]
floor = results[1]["median"]
print(f"{'':44} {'median':>9} {'mean':>9}  {'x floor':>7}")
for name, r in zip(names, results):
    print(f"{name:44} {r['median']*1e3:7.3f}ms {r['mean']*1e3:7.3f}ms  {r['median']/floor:7.2f}")
PY
