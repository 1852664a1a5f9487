#!/usr/bin/env bash
# Proves the installed SDK is enough to write a plugin: installs sandlock from a build tree into
# a temporary prefix, builds sdk/examples/audit against that prefix only (find_package, and a
# second time by hand through pkg-config), runs the installed sandlock with the plugin, checks
# its log, and checks that a plugin built for another ABI is refused by name. Then the C waist
# (sdk/abi.h): the plain-C plugin sdk/examples/c-plugin (CMake, and by hand), and the audit
# plugin built with clang++ and libc++, both loaded by the GCC/libstdc++-built sandlock.
#
#   scripts/build-sdk-example.sh [BUILD_DIR]     (default: ./build; built with the tests)
#   scripts/build-sdk-example.sh --prefix PREFIX  an existing prefix, e.g. the unpacked Debian
#                                                 packages (scripts/check-packages.sh)
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d /tmp/sandlock-sdk-example.XXXXXX)
trap 'rm -rf "$work"' EXIT

fail() { echo "build-sdk-example: $*" >&2; exit 1; }

if [[ ${1:-} == --prefix ]]; then
  prefix=$(cd "$2" && pwd)
  build=""
else
  build=$(cd "${1:-$root/build}" && pwd)
  prefix=$work/prefix
  echo "== install $build into $prefix"
  cmake --install "$build" --prefix "$prefix" >/dev/null
fi

echo "== build the audit example with find_package(sandlock)"
cmake -S "$root/sdk/examples/audit" -B "$work/audit" -DCMAKE_PREFIX_PATH="$prefix" \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$work/audit" -j2 >/dev/null
[[ -f $work/audit/audit.so ]] || fail "the example did not produce audit.so"

echo "== build it again with pkg-config sandlock-sdk"
mkdir -p "$work/pkgconfig-build"
pc=$(find "$prefix/lib" -maxdepth 3 -path '*/pkgconfig/sandlock-sdk.pc' -print -quit)
[[ -n $pc ]] || fail "no sandlock-sdk.pc under $prefix/lib"
export PKG_CONFIG_PATH=${pc%/sandlock-sdk.pc}
# The .pc names the configured prefix; this copy lives in another one.
# shellcheck disable=SC2046 # the flags are meant to split
g++ -shared -fPIC -O2 $(pkg-config --define-variable=prefix="$prefix" --cflags sandlock-sdk) "$root/sdk/examples/audit/audit.cpp" \
  -o "$work/pkgconfig-build/audit.so" -static-libstdc++ -static-libgcc -Wl,--exclude-libs,ALL -Wl,-z,defs
if [[ $(ldd "$work/audit/audit.so") == *libstdc++* ]]; then fail "audit.so links the shared C++ runtime"; fi

echo "== run the installed sandlock with the plugin"
sandlock=$prefix/bin/sandlock
run_audited() {  # PLUGIN_DIR LOG -- CMD...
  local plugin_dir=$1 log=$2
  shift 3
  mkdir -p "$work/config/sandlock/profiles"
  printf '[plugins.audit]\nlog = "%s"\n' "$log" >"$work/config/sandlock/profiles/audit-example.toml"
  XDG_CONFIG_HOME=$work/config "$sandlock" --plugin-path "$plugin_dir" --plugins=landlock,seccomp,notif,audit \
    run -p audit-example -r /usr -r /lib -r /lib64 -r /bin -r /etc -- "$@"
}
for dir in "$work/audit" "$work/pkgconfig-build"; do
  log=$dir/audit.jsonl
  run_audited "$dir" "$log" -- /bin/sh -c 'true' || fail "the sandbox with the audit plugin failed"
  grep -q '"event":"execve".*"path":"/bin/sh"' "$log" || fail "no execve line in $log: $(cat "$log")"
  if [[ -x /usr/bin/python3 ]]; then
    run_audited "$dir" "$log" -- /usr/bin/python3 -c \
      'import socket; socket.socket(socket.AF_UNIX).connect_ex("/nonexistent-sandlock-audit")'
    grep -q '"event":"connect".*"family":"AF_UNIX".*"path":"/nonexistent-sandlock-audit"' "$log" ||
      fail "no connect line in $log: $(cat "$log")"
  fi
  echo "   $(wc -l <"$log") lines from $dir/audit.so, e.g.: $(head -1 "$log")"
done

echo "== the C plugin (sdk/examples/c-plugin), with CMake and by hand"
cmake -S "$root/sdk/examples/c-plugin" -B "$work/c-plugin" -DCMAKE_PREFIX_PATH="$prefix" \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$work/c-plugin" -j2 >/dev/null
[[ -f $work/c-plugin/c_example.so ]] || fail "the C example did not produce c_example.so"
mkdir -p "$work/c-by-hand"
# The .pc's Cflags are for C++ (-std=c++20): a C plugin takes only its include directory.
includedir=$(pkg-config --define-variable=prefix="$prefix" --variable=includedir sandlock-sdk)
cc -std=c11 -Wall -Wextra -Wpedantic -Werror -shared -fPIC -fvisibility=hidden -O2 -I"$includedir" \
  "$root/sdk/examples/c-plugin/c_example.c" -o "$work/c-by-hand/c_example.so" -Wl,-z,defs
for dir in "$work/c-plugin" "$work/c-by-hand"; do
  libraries=$(ldd "$dir/c_example.so")
  if [[ $libraries == *libstdc++* || $libraries == *libc++* ]]; then fail "$dir/c_example.so links a C++ runtime"; fi
  "$sandlock" --plugin-path "$dir" --plugins=landlock,seccomp,notif,c_example run -- /bin/true ||
    fail "the sandbox with the C plugin failed"
  out=$(SANDLOCK_LOG=info "$sandlock" --plugin-path "$dir" --plugins=landlock,seccomp,notif,c_example \
    run -- /bin/sh -c 'ulimit -n' 2>"$work/c.err") || fail "c_example: the run failed: $(cat "$work/c.err")"
  [[ $out == 64 ]] || fail "c_example: expected 64 open files in the sandbox (its rlimits stage), got '$out'"
  grep -q '\[c_example\] configured with [0-9]* bytes of policy' "$work/c.err" ||
    fail "c_example: no log line from configure: $(cat "$work/c.err")"
  grep -q '\[c_example\] the command exited with status 0' "$work/c.err" ||
    fail "c_example: no log line from on_exit: $(cat "$work/c.err")"
  mkdir -p "$work/config/sandlock/profiles"
  printf '[plugins.c_example]\nlimit = 10\n' >"$work/config/sandlock/profiles/c-example.toml"
  set +e
  message=$(XDG_CONFIG_HOME=$work/config "$sandlock" --plugin-path "$dir" --plugins=landlock,seccomp,notif,c_example \
    run -p c-example -- /bin/true 2>&1)
  code=$?
  set -e
  [[ $code -eq 125 && $message == *"[plugins.c_example] takes no options"* ]] ||
    fail "c_example: an option was not refused (exit $code): $message"
  echo "   $dir/c_example.so: ulimit -n = $out in the sandbox; an option is refused: $message"
done

echo "== the audit plugin built with clang++ and libc++, in the GCC/libstdc++-built sandlock"
command -v clang++ >/dev/null || fail "clang++ is missing (scripts/setup.sh installs it)"
mkdir -p "$work/libcxx-shared" "$work/libcxx-static"
# shellcheck disable=SC2046 # the flags are meant to split
clang++ -stdlib=libc++ -fPIC -O1 $(pkg-config --define-variable=prefix="$prefix" --cflags sandlock-sdk) \
  -c "$root/sdk/examples/audit/audit.cpp" -o "$work/audit-libcxx.o"
map=$(find "$prefix/lib" -name sandlock-plugin.map -print -quit)
[[ -n $map ]] || fail "no sandlock-plugin.map under $prefix/lib"
# Once with libc++ as shared libraries (both C++ runtimes then live in the host process), once
# with libc++ linked in and hidden, as the SDK links libstdc++.
clang++ -stdlib=libc++ -shared "$work/audit-libcxx.o" -o "$work/libcxx-shared/audit.so" \
  -Wl,--version-script="$map" -Wl,-z,defs
clang++ -shared "$work/audit-libcxx.o" -o "$work/libcxx-static/audit.so" -nostdlib++ \
  -Wl,-Bstatic -lc++ -lc++abi -Wl,-Bdynamic -Wl,--exclude-libs,ALL -Wl,--version-script="$map" -Wl,-z,defs
# ldd's output is taken whole: `ldd | grep -q` under pipefail fails when grep's early exit
# cuts ldd off (SIGPIPE), which failed CI once.
[[ $(ldd "$work/libcxx-shared/audit.so") == *libc++.so* ]] || fail "libcxx-shared/audit.so does not use libc++"
libraries=$(ldd "$work/libcxx-static/audit.so")
if [[ $libraries == *libc++* || $libraries == *libstdc++* ]]; then
  fail "libcxx-static/audit.so links a shared C++ runtime"
fi
for dir in "$work/libcxx-shared" "$work/libcxx-static"; do
  log=$dir/audit.jsonl
  run_audited "$dir" "$log" -- /bin/sh -c 'true' || fail "the sandbox with the libc++ audit plugin failed"
  grep -q '"event":"execve".*"path":"/bin/sh"' "$log" || fail "libc++: no execve line in $log: $(cat "$log")"
  # A refusal crosses too: the exception stays inside the plugin, its message reaches the user.
  printf '[plugins.audit]\nlgo = "x"\n' >"$work/config/sandlock/profiles/audit-typo.toml"
  set +e
  message=$(XDG_CONFIG_HOME=$work/config "$sandlock" --plugin-path "$dir" --plugins=landlock,seccomp,notif,audit \
    run -p audit-typo -- /bin/true 2>&1)
  code=$?
  set -e
  [[ $code -eq 125 && $message == *'unknown option "lgo"'* ]] ||
    fail "libc++: the refusal did not cross (exit $code): $message"
  echo "   $dir/audit.so: $(wc -l <"$log") log lines; refused: $message"
done

echo "== a plugin built for another ABI is refused by name"
mismatch_dir=$build/lib/sandlock/test-plugins
if [[ -z $build ]]; then
  echo "   (checked by the run on the build tree: the test plugins are not installed)"
elif [[ -f $mismatch_dir/abi_mismatch.so ]]; then
  set +e
  message=$("$sandlock" --plugin-path "$mismatch_dir" --plugins=abi_mismatch run -- /bin/true 2>&1)
  code=$?
  set -e
  [[ $code -eq 125 ]] || fail "abi_mismatch: expected exit 125, got $code ($message)"
  [[ $message == *abi_mismatch.so* ]] || fail "abi_mismatch: the refusal does not name the file: $message"
  echo "   $message"
else
  echo "   (skipped: $mismatch_dir/abi_mismatch.so not built; build the tests to check it)"
fi

echo "build-sdk-example: ok"
