#!/usr/bin/env bash
# The start-up budget: bin/sandlock and every plugin carry their own libstdc++, libgcc and
# Boost, so ldd must show no C++ runtime in any of them. A missing binary or plugin is a
# failure, not a pass: a check that found nothing to check has checked nothing.
set -euo pipefail
build=${1:-build}
expected=("$build/bin/sandlock")
for plugin in landlock seccomp notif; do expected+=("$build/lib/sandlock/plugins/$plugin.so"); done
shopt -s nullglob
files=("$build/bin/sandlock" "$build"/lib/sandlock/plugins/*.so)
status=0
for file in "${expected[@]}"; do
  if [[ ! -f $file ]]; then
    echo "check-runtime: $file was not built" >&2
    status=1
  fi
done
for file in "${files[@]}"; do
  [[ -f $file ]] || continue
  if ! deps=$(ldd "$file" 2>&1); then
    echo "check-runtime: ldd cannot read $file: $deps" >&2
    status=1
  elif grep -E 'libstdc\+\+|libgcc_s|libboost' <<<"$deps"; then
    echo "check-runtime: $file loads a C++ runtime (see above); link it statically" >&2
    status=1
  fi
done
((status == 0)) && echo "check-runtime: no C++ runtime in bin/sandlock or its $((${#files[@]} - 1)) plugins"
exit $status
