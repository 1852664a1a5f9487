#!/usr/bin/env bash
# The start-up budget: bin/sandlock and every plugin carry their own libstdc++, libgcc and
# Boost, so ldd must show no C++ runtime in any of them.
set -euo pipefail
build=${1:-build}
status=0
for file in "$build"/bin/sandlock "$build"/lib/sandlock/plugins/*.so; do
  if ldd "$file" | grep -E 'libstdc\+\+|libgcc_s|libboost'; then
    echo "check-runtime: $file loads a C++ runtime (see above); link it statically" >&2
    status=1
  fi
done
((status == 0)) && echo "check-runtime: no C++ runtime in bin/sandlock or the plugins"
exit $status
