#!/usr/bin/env bash
# Builds the .deb from a configured and built build directory (cpack -G DEB), installs it into a
# throwaway root with dpkg, and runs what was installed. ctest "package_deb" (label package).
#
# The machine is not modified: dpkg gets --root=ROOT (its database under ROOT/var/lib/dpkg, files
# under ROOT). The package has no maintainer scripts, so dpkg needs no chroot. The root has no
# libc, libcurl, …, so dependencies cannot be satisfied inside it: --force-depends installs
# anyway, and the Depends line is checked separately against this machine with
# dpkg-checkbuilddeps (every dependency must be satisfied here, where the binary then runs).
#
# Usage: scripts/test-deb.sh BUILD_DIR
set -euo pipefail
build=$(cd "$1" && pwd)
src=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() {
  echo "test-deb: $*" >&2
  exit 1
}

# 1. Build the package (into the temp dir: parallel runs do not share CPack's staging area).
(cd "$build" && cpack -G DEB -B "$work/pkg" >"$work/cpack.log" 2>&1) || {
  cat "$work/cpack.log" >&2
  fail "cpack failed"
}
deb=$(ls "$work"/pkg/gomodprobe_*.deb)
echo "built $(basename "$deb") ($(stat -c %s "$deb") bytes)"

# 2. Metadata: version from CMake's project(), shlibdeps-derived Depends, the conffile.
version=$(sed -n 's/^project(gomodprobe VERSION \([0-9.]*\).*/\1/p' "$src/CMakeLists.txt")
[[ $(dpkg-deb -f "$deb" Version) == "$version" ]] || fail "Version is not $version"
depends=$(dpkg-deb -f "$deb" Depends)
for lib in libc6 libcurl4 libc-ares2 libssl3 libprometheus-cpp-push1.0; do
  grep -q "\b$lib\b" <<<"$depends" || fail "Depends lacks $lib: $depends"
done
# sd_notify is spoken without libsystemd (src/agent/systemd_notifier.h).
! grep -q "\blibsystemd0\b" <<<"$depends" || fail "Depends has libsystemd0: $depends"
dpkg-deb --ctrl-tarfile "$deb" | tar -xO ./conffiles | grep -qx /etc/gomodprobe/gomodprobe.yml ||
  fail "/etc/gomodprobe/gomodprobe.yml is not a conffile"
# Every dependency (versions and virtual packages such as libspdlog1.10-fmt9 included) is
# satisfied on this machine: dpkg-checkbuilddeps evaluates a relation string against the installed
# packages (it needs a control file to exist, hence the minimal one).
printf 'Source: gomodprobe\n\nPackage: gomodprobe\nArchitecture: any\n' >"$work/control"
dpkg-checkbuilddeps -d "$depends" "$work/control" || fail "Depends not satisfied here: $depends"

# 3. Install into the throwaway root.
root=$work/root
mkdir -p "$root/var/lib/dpkg/updates" "$root/var/lib/dpkg/info"
touch "$root/var/lib/dpkg/status" "$root/var/lib/dpkg/available"
dpkg --root="$root" --force-depends --force-not-root --log=/dev/null -i "$deb" >"$work/dpkg.log" 2>&1 || {
  cat "$work/dpkg.log" >&2
  fail "dpkg -i failed"
}
dpkg --root="$root" -s gomodprobe | grep -qx "Status: install ok installed" || fail "not installed"
listed=$(dpkg --root="$root" -L gomodprobe)
for path in /usr/bin/gomodprobe /lib/systemd/system/gomodprobe.service \
  /etc/gomodprobe/gomodprobe.yml /usr/share/doc/gomodprobe/README.md; do
  grep -qx "$path" <<<"$listed" || fail "$path not installed"
  [[ -e $root$path ]] || fail "$root$path missing"
done
for dir in dashboards alerts; do
  for f in "$src/$dir"/*.json "$src/$dir"/*.yml "$src/$dir"/*.yaml; do
    [[ -e $f ]] || continue
    grep -qx "/usr/share/gomodprobe/$dir/$(basename "$f")" <<<"$listed" ||
      fail "$f not shipped under /usr/share/gomodprobe/$dir"
  done
done

# 4. Run what was installed (its libraries are this machine's, see above).
bin=$root/usr/bin/gomodprobe
out=$("$bin" --version)
[[ $out == "gomodprobe $version ("*")" ]] || fail "--version printed: $out"
echo "installed: $out"
out=$("$bin" --config.check --config.file "$root/etc/gomodprobe/gomodprobe.yml") ||
  fail "--config.check of the installed config failed: $out"
[[ $out == "config OK: "*" targets from $root/etc/gomodprobe/gomodprobe.yml" ]] ||
  fail "--config.check printed: $out"
echo "installed config: $out"

# 5. The installed unit verifies against the installed binary.
"$src/systemd/check-unit.sh" verify "$root/lib/systemd/system/gomodprobe.service" "$bin"
echo "test-deb: OK"
