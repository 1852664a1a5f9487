#!/usr/bin/env bash
# Proves the installed library is enough to write a program: builds tests/consumer (a main that
# runs /bin/echo in a Sandbox and checks its output and a denial) against an installed prefix
# only, once with find_package(sandlock) and once with pkg-config sandlock, runs both, and checks
# that neither loads Boost or ICU at start (libsandlock.a carries Boost.Log statically).
#
#   scripts/check-installed-library.sh [BUILD_DIR]        installs BUILD_DIR (default ./build)
#                                                         into a temporary prefix first
#   scripts/check-installed-library.sh --prefix PREFIX    an existing prefix (scripts/check-packages.sh)
#
# The consumer runs from its own build directory, so no plugin directory sits next to it and
# the library's compiled-in system directory is not this prefix: SANDLOCK_PLUGIN_PATH names
# the prefix's plugin directory (pkg-config --variable=plugindir sandlock).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d /tmp/sandlock-consumer.XXXXXX)
trap 'rm -rf "$work"' EXIT
fail() { echo "check-installed-library: $*" >&2; exit 1; }

if [[ ${1:-} == --prefix ]]; then
  prefix=$(cd "$2" && pwd)
else
  build=$(cd "${1:-$root/build}" && pwd)
  prefix=$work/prefix
  echo "== install $build into $prefix"
  cmake --install "$build" --prefix "$prefix" >/dev/null
fi

pc=$(find "$prefix/lib" -maxdepth 3 -path '*/pkgconfig/sandlock.pc' -print -quit)
[[ -n $pc ]] || fail "no sandlock.pc under $prefix/lib"
export PKG_CONFIG_PATH=${pc%/sandlock.pc}
# The .pc names the prefix it was built for; this copy may live in another one.
pkgconf() { pkg-config --define-variable=prefix="$prefix" "$@" sandlock; }
export SANDLOCK_PLUGIN_PATH
SANDLOCK_PLUGIN_PATH=$(pkgconf --variable=plugindir)
[[ -f $SANDLOCK_PLUGIN_PATH/seccomp.so ]] || fail "no plugins in $SANDLOCK_PLUGIN_PATH"

echo "== build tests/consumer with find_package(sandlock)"
cmake -S "$root/tests/consumer" -B "$work/cmake" -DCMAKE_PREFIX_PATH="$prefix" \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$work/cmake" -j1 >/dev/null

echo "== build it again with pkg-config sandlock"
mkdir -p "$work/pkg-config"
# shellcheck disable=SC2046 # the flags are meant to split
g++ -O2 $(pkgconf --cflags) "$root/tests/consumer/consumer.cpp" -o "$work/pkg-config/consumer" $(pkgconf --libs)

for consumer in "$work/cmake/consumer" "$work/pkg-config/consumer"; do
  if ldd "$consumer" | grep -E 'libboost|libicu'; then fail "$consumer loads a shared Boost or ICU (above)"; fi
  output=$("$consumer" 2>&1) || fail "$consumer failed: $output"
  echo "   $consumer: $output ($(du -k "$consumer" | cut -f1) KB)"
done
echo "check-installed-library: ok"
