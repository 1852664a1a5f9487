#!/usr/bin/env bash
# branchfs benchmarks, each against its baseline measured in the same run (compare ratios):
#   1. write-heavy work: extract a 5,000-file tree into the workspace, in a branch (the run
#      alone, and with its commit) against the same sandbox writing the workspace directly,
#      each until its data is on disk;
#   2. branch creation: `run -- /bin/true` on a 10-file and on a 100,000-file workspace;
#   3. commit of 5,000 changed files: files/s.
# Needs hyperfine (scripts/setup.sh installs it). Usage: bench/branchfs.sh [BUILD_DIR] [RUNS]
set -euo pipefail
build=$(realpath "${1:-build}")
runs=${2:-15}
sandlock="$build/bin/sandlock"
system=(-r /usr -r /lib -r /lib64 -r /bin -r /etc)
# Where the trees live: BENCH_DIR (default /var/tmp, a disk; /dev/shm takes the disk out).
work=$(mktemp -d "${BENCH_DIR:-/var/tmp}/sandlock-bench-XXXXXX")
trap 'rm -rf "$work"' EXIT
storage="$work/storage"

# A source tree of 5,000 small files in 100 directories, as a tarball.
python3 - "$work/tree" <<'PY'
import os, sys, random
random.seed(1)
root = sys.argv[1]
for d in range(100):
    os.makedirs(f"{root}/dir{d}")
    for f in range(50):
        with open(f"{root}/dir{d}/file{f}.c", "w") as out:
            out.write("x" * random.randint(200, 8000))
PY
tar -C "$work/tree" -cf "$work/tree.tar" .
mkdir -p "$work/ws" "$work/small" "$work/huge"
for i in $(seq 10); do echo "$i" > "$work/small/f$i"; done
python3 -c "
import os, sys
for d in range(1000):
    os.makedirs(f'$work/huge/d{d}')
    for f in range(100): open(f'$work/huge/d{d}/f{f}', 'w').close()
"

branch=(--fs-isolation branchfs --fs-storage "$storage")
extract="tar -C $work/ws -xf $work/tree.tar"
# Each run extracts into an empty workspace, and its data reaches the disk before the clock
# stops (`sync`): a branch's commit syncs, so without it the direct run would be timed against
# the page cache alone. Emptying the workspace and the store is untimed.
hyperfine --style none --warmup 1 --runs "$runs" --export-json "$work/write.json" \
  --prepare "rm -rf $work/ws/* $storage; sync" \
  "$sandlock run ${system[*]} -r $work/tree.tar -w $work/ws -- $extract; sync" \
  "$sandlock run ${system[*]} -r $work/tree.tar -w $work/ws ${branch[*]} --fs-mount $work/ws --on-exit keep -- $extract 2>/dev/null; sync" \
  "$sandlock run ${system[*]} -r $work/tree.tar -w $work/ws ${branch[*]} --fs-mount $work/ws -- $extract; sync" \
  >/dev/null
hyperfine -N --style none --warmup 3 --runs $((runs * 4)) --export-json "$work/create.json" \
  "$sandlock run ${system[*]} -r $work/small ${branch[*]} --fs-mount $work/small --on-exit abort -- /bin/true" \
  "$sandlock run ${system[*]} -r $work/huge ${branch[*]} --fs-mount $work/huge --on-exit abort -- /bin/true" \
  >/dev/null

# Commit: a kept branch that rewrote all 5,000 files, committed by `sandlock branch commit`.
commit_rates=()
for i in 1 2 3; do
  rm -rf "$work/ws" && mkdir "$work/ws" && tar -C "$work/ws" -xf "$work/tree.tar"
  "$sandlock" run "${system[@]}" -r "$work/tree.tar" -w "$work/ws" "${branch[@]}" --fs-mount "$work/ws" --on-exit keep \
    -- /bin/sh -c "tar -C $work/ws -xf $work/tree.tar" 2>/dev/null
  id=$("$sandlock" branch list --json --fs-storage "$storage" | python3 -c "import json,sys; print(json.load(sys.stdin)[0]['id'])")
  start=$(date +%s.%N)
  "$sandlock" branch commit "$id" --fs-storage "$storage" >/dev/null
  end=$(date +%s.%N)
  commit_rates+=("$(python3 -c "print(round(5100 / ($end - $start)))")")
done

python3 - "$work/write.json" "$work/create.json" "${commit_rates[@]}" <<'PY'
import json, sys
write = [r["median"] for r in json.load(open(sys.argv[1]))["results"]]
create = [r["median"] for r in json.load(open(sys.argv[2]))["results"]]
rates = sorted(int(x) for x in sys.argv[3:])
print(f"extract 5,000 files, sandbox writing the workspace   {write[0]*1e3:8.1f} ms   1.00")
print(f"  the same in a branch (the run; the branch is kept)  {write[1]*1e3:8.1f} ms   {write[1]/write[0]:.2f}")
print(f"  the same in a branch, committed                    {write[2]*1e3:8.1f} ms   {write[2]/write[0]:.2f}")
print(f"branch creation, 10-file workspace                    {create[0]*1e3:8.1f} ms   1.00")
print(f"  100,000-file workspace                              {create[1]*1e3:8.1f} ms   {create[1]/create[0]:.2f}")
print(f"commit of 5,000 rewritten files (+100 dirs): median {rates[len(rates)//2]} files/s (runs: {rates})")
PY
