#!/usr/bin/env bash
# Workload benchmark: real programs bare, in bubblewrap and in sandlock (landlock + seccomp +
# notif, -m 1G -P 64), interleaved by hyperfine in one run; medians, ratios to bare. This
# machine is noisy: compare the ratios of one run. Also counts the supervisor's notifications
# per workload (SANDLOCK_LOG=debug's summary) when the build prints them.
# Usage: bench/workloads.sh [BUILD_DIR] [RUNS] [OTHER_BUILD_DIR]
set -euo pipefail
build=$(realpath "${1:-build}")
runs=${2:-20}
other=${3:+$(realpath "$3")}
work=$(mktemp -d /tmp/sandlock-workloads.XXXXXX)
trap 'rm -rf "$work"' EXIT
chmod 755 "$work"
export TMPDIR=$work  # compilers write their temporary files here (the one writable directory)

# The workloads: one C file with gcc -O0; make -j2 of 21 small C files; python3 importing
# json, email, http.client and sqlite3.
printf '#include <stdio.h>\nint main(void) { printf("hi\\n"); return 0; }\n' >"$work/a.c"
mkdir "$work/proj"
for i in $(seq 1 20); do printf 'int f%d(int x) { return x * %d; }\n' "$i" "$i" >"$work/proj/f$i.c"; done
printf 'int main(void) { return 0; }\n' >"$work/proj/main.c"
printf 'OBJS := $(patsubst %%.c,%%.o,$(wildcard *.c))\nprog: $(OBJS)\n\t$(CC) -o $@ $^\n%%.o: %%.c\n\t$(CC) -O0 -c -o $@ $<\n' \
  >"$work/proj/Makefile"

system=(-r /usr -r /lib -r /lib64 -r /bin -r /etc)
limits=(-m 1G -P 64)
bwrap=(bwrap --ro-bind /usr /usr --ro-bind /lib /lib --ro-bind /lib64 /lib64 --ro-bind /bin /bin
  --ro-bind /etc /etc --bind "$work" "$work" --proc /proc --dev /dev --chdir "$work")

declare -A workload=(
  [gcc]="cd $work && /usr/bin/gcc -O0 -o a.out a.c"
  [make]="cd $work/proj && rm -f *.o prog && /usr/bin/make -s -j2 prog"
  [python]="cd $work && /usr/bin/python3 -c 'import json, email, http.client, sqlite3'"
)
for name in gcc make python; do
  cmd=${workload[$name]}
  extra=(-w "$work")
  [[ $name == python ]] && extra+=(-r /proc)
  commands=("sh -c \"$cmd\""
            "${bwrap[*]} sh -c \"$cmd\""
            "$build/bin/sandlock run ${system[*]} ${extra[*]} ${limits[*]} -- sh -c \"$cmd\"")
  labels=("bare" "bubblewrap" "sandlock")
  if [[ -n $other ]]; then
    commands+=("$other/bin/sandlock run ${system[*]} ${extra[*]} ${limits[*]} -- sh -c \"$cmd\"")
    labels+=("other build")
  fi
  hyperfine -N --style none --warmup 3 --runs "$runs" --export-json "$work/$name.json" "${commands[@]}" >/dev/null 2>&1 ||
    hyperfine --style none --warmup 3 --runs "$runs" --export-json "$work/$name.json" "${commands[@]}" >/dev/null
  python3 - "$work/$name.json" "$name" "${labels[@]}" <<'PY'
import json, sys
results = json.load(open(sys.argv[1]))["results"]
name, labels = sys.argv[2], sys.argv[3:]
bare = results[0]["median"]
bwrap = results[1]["median"]
for label, r in zip(labels, results):
    print(f"{name:8} {label:12} {r['median']*1e3:9.2f} ms  x bare {r['median']/bare:5.2f}  x bwrap {r['median']/bwrap:5.2f}")
PY
  notifications=$(SANDLOCK_LOG=debug "$build/bin/sandlock" run "${system[@]}" "${extra[@]}" "${limits[@]}" -- sh -c "$cmd" 2>&1 |
    sed -n 's/.*supervisor answered \([0-9]*\) notifications.*/\1/p' | tail -1)
  echo "${name:0:8} notifications: ${notifications:-?}"
done
