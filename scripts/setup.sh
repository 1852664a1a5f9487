#!/usr/bin/env bash
# Installs what sandlock needs on Debian 12 (apt-get, as root or through sudo) and builds it
# into build/ with warnings as errors. Safe to run again: it installs only what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(
  build-essential cmake pkg-config              # toolchain (libc6-dev: static libc for a test helper)
  libboost1.81-dev libboost-json1.81-dev libboost-log1.81-dev  # Boost.DLL, Boost.JSON, Boost.Log
  libtomlplusplus-dev libcli11-dev libseccomp-dev libxxhash-dev  # xxhash: checkpoint page-file hashes
  googletest libgtest-dev libbenchmark-dev      # tests and benchmarks
  python3 util-linux                            # test programs run in sandboxes; setpriv
  python3-dev pybind11-dev python3-pytest python3-mypy  # the Python package (python/), its tests and type check
  bubblewrap hyperfine                          # the start-up benchmark's baseline and timer
  clang libclang-rt-14-dev                      # libFuzzer harnesses (scripts/fuzz.sh)
  libc++-14-dev libc++abi-14-dev                # a plugin built with libc++ (build-sdk-example.sh)
  man-db groff-base bash-completion zsh         # man pages and shell completion (tests/cli/docs_test.cpp, check-completion.sh)
  dpkg-dev lintian ccache                       # the .debs: dpkg-shlibdeps, their check, and
                                                # build-deb/ compiled from build/'s cache
)
missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
if ((${#missing[@]})); then
  sudo=""
  [[ $(id -u) -eq 0 ]] || sudo="sudo"
  echo "setup: installing ${missing[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# Through ccache, paths relative to the tree: scripts/build-debs.sh then compiles build-deb/
# from this build's cache (the same flags) instead of compiling everything again.
export CCACHE_BASEDIR=${CCACHE_BASEDIR:-$PWD} CCACHE_NOHASHDIR=${CCACHE_NOHASHDIR:-1}
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSANDLOCK_WERROR=ON \
  -DCMAKE_C_COMPILER_LAUNCHER=ccache -DCMAKE_CXX_COMPILER_LAUNCHER=ccache >/dev/null
cmake --build build -j2
