#!/usr/bin/env bash
# Builds the Debian packages from this tree with one command: configures BUILD_DIR (default
# build-deb/) for the prefix /usr (plugins in /usr/lib/<multiarch>/sandlock/plugins), builds
# the executable, the plugins and the library without the tests, and runs CPack (DEB):
#
#   scripts/build-debs.sh [BUILD_DIR]   ->  BUILD_DIR/*.deb, then: sudo dpkg -i BUILD_DIR/*.deb
#
# Packages: sandlock, sandlock-plugin-{landlock,seccomp,notif,branchfs,checkpoint}, libsandlock-dev
# (cmake/SandlockDeb.cmake). Needs what scripts/setup.sh installs.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build-deb}
launcher=()
if command -v ccache >/dev/null; then  # hits on what scripts/setup.sh compiled into build/
  export CCACHE_BASEDIR=${CCACHE_BASEDIR:-$root} CCACHE_NOHASHDIR=${CCACHE_NOHASHDIR:-1}
  launcher=(-DCMAKE_C_COMPILER_LAUNCHER=ccache -DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
fi
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_INSTALL_PREFIX=/usr \
  -DSANDLOCK_WERROR=ON -DSANDLOCK_BUILD_TESTS=OFF -DSANDLOCK_BUILD_BENCH=OFF "${launcher[@]}" >/dev/null
cmake --build "$build" -j"${JOBS:-$(nproc)}"
rm -f "$build"/*.deb
(cd "$build" && cpack -G DEB >/dev/null)
ls -l "$build"/*.deb
