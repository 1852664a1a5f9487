#!/usr/bin/env bash
# The Debian packages, end to end, without touching this machine's installed packages: builds
# them (scripts/build-debs.sh), runs lintian (no errors allowed), checks their declared
# dependencies with apt's resolver (simulated), unpacks them into a fresh root (dpkg-deb -x),
# runs the unpacked sandlock (a sandboxed command, a denial, `sandlock plugins`) and builds the
# SDK example and the library consumer against the unpacked libsandlock-dev with CMake and
# pkg-config, and runs them.
#
#   scripts/check-packages.sh [DEB_BUILD_DIR]   (default: ./build-deb)
#
# Plugin discovery: the unpacked bin/sandlock finds ROOT/usr/lib/<multiarch>/sandlock/plugins
# next to itself, as /usr/bin/sandlock does once installed: SANDLOCK_PLUGIN_PATH is unset here.
# Only the library consumer gets it: a program elsewhere finds the plugins in the compiled-in
# /usr/lib/<multiarch>/sandlock/plugins, which this unpacked root is not.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
debs=$(realpath -m "${1:-$root/build-deb}")  # absolute: apt-get takes only ./ or / paths as files
work=$(mktemp -d /tmp/sandlock-packages.XXXXXX)
trap 'rm -rf "$work"' EXIT
fail() { echo "check-packages: $*" >&2; exit 1; }
unset SANDLOCK_PLUGIN_PATH

echo "== build the packages into $debs"
"$root/scripts/build-debs.sh" "$debs" >"$work/build.log" 2>&1 || { cat "$work/build.log"; fail "build-debs.sh failed"; }
expected=(sandlock sandlock-plugin-landlock sandlock-plugin-seccomp sandlock-plugin-notif
  sandlock-plugin-branchfs sandlock-plugin-checkpoint libsandlock-dev python3-sandlock)
packages=()
for name in "${expected[@]}"; do
  deb=$(find "$debs" -maxdepth 1 -name "${name}_*.deb" -print -quit)
  [[ -n $deb ]] || fail "no ${name}_*.deb in $debs"
  packages+=("$deb")
  echo "   $(basename "$deb"): $(du -k "$deb" | cut -f1) KB, installed $(dpkg-deb -f "$deb" Installed-Size) KB"
done

echo "== lintian"
lintian --fail-on error "${packages[@]}" || fail "lintian reports errors (above)"

echo "== dependencies"
abi=$(dpkg-deb -f "${packages[0]}" Provides)
[[ $abi =~ ^sandlock-abi-[0-9]+$ ]] || fail "sandlock provides '$abi', not sandlock-abi-N"
for deb in "${packages[@]:1:4}"; do
  [[ $(dpkg-deb -f "$deb" Depends) == *"$abi"* ]] || fail "$(basename "$deb") does not depend on $abi"
done
apt-get install --simulate "${packages[@]}" >"$work/apt.log" 2>&1 ||
  { cat "$work/apt.log"; fail "the packages do not install together"; }
if apt-get install --simulate "${packages[1]}" >"$work/apt-alone.log" 2>&1; then
  fail "$(basename "${packages[1]}") installs without a host providing $abi"
fi
echo "   all ${#packages[@]} install together; a layer alone is refused for $abi"

echo "== unpack into $work/root"
for deb in "${packages[@]}"; do dpkg-deb -x "$deb" "$work/root"; done
sandlock=$work/root/usr/bin/sandlock
multiarch=$(dpkg-architecture -qDEB_HOST_MULTIARCH)
plugins=$work/root/usr/lib/$multiarch/sandlock/plugins

echo "== run the unpacked sandlock"
output=$("$sandlock" run -r /usr -r /lib -r /lib64 -r /bin -- /bin/echo ok 2>&1) || fail "sandlock run failed: $output"
[[ $output == ok ]] || fail "sandlock run printed '$output', not 'ok'"
if "$sandlock" run -r /usr -r /lib -r /lib64 -r /bin -- /bin/cat /etc/passwd >/dev/null 2>&1; then
  fail "the unpacked sandlock let /bin/cat read /etc/passwd outside the policy"
fi
listing=$("$sandlock" plugins)
for layer in landlock seccomp notif branchfs checkpoint; do
  grep -qx "  path:   $plugins/$layer.so" <<<"$listing" || fail "sandlock plugins does not list $plugins/$layer.so: $listing"
done
echo "   sandlock run: ok; cat outside the policy: refused; plugins: 5 from $plugins"

echo "== the unpacked python3-sandlock"
output=$(cd / && PYTHONPATH=$work/root/usr/lib/python3/dist-packages SANDLOCK_PLUGIN_PATH=$plugins python3 -c '
import sandlock
p = sandlock.Policy(fs_readable=["/usr", "/lib", "/lib64", "/bin"])
print(sandlock.Sandbox(p).run(["/bin/echo", "ok"]).stdout.decode().strip(), sandlock.Sandbox(p).run(["/bin/cat", "/etc/passwd"]).exit_code)
' 2>&1) || fail "import sandlock from the unpacked package failed: $output"
[[ $output == "ok 1" ]] || fail "the unpacked python3-sandlock printed '$output', not 'ok 1' (echo ok; cat outside refused)"
echo "   Sandbox.run: ok; cat outside the policy: refused"

echo "== the SDK example against the unpacked libsandlock-dev"
"$root/scripts/build-sdk-example.sh" --prefix "$work/root/usr" | sed 's/^/   /'
echo "== the library consumer against the unpacked libsandlock-dev"
"$root/scripts/check-installed-library.sh" --prefix "$work/root/usr" | sed 's/^/   /'
echo "check-packages: ok"
