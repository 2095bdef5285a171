#!/usr/bin/env bash
# Checks systemd/gomodprobe.service (ctest "systemd_unit_*", see tests/CMakeLists.txt):
#   verify    systemd-analyze verify --recursive-errors=no --man=no: syntax, known keys, and that
#             ExecStart's binary exists. The unit names /usr/bin/gomodprobe, which a build machine
#             does not have, so a temporary copy whose ExecStart names the built binary is
#             verified instead (the only difference; the copy is printed on failure).
#   security  systemd-analyze security --offline=true --threshold=15: fails above exposure 1.5;
#             prints the score.
#   contract  the directives the daemon relies on (Type=notify, WatchdogSec, SIGHUP reload, …).
# Usage: check-unit.sh verify|security|contract UNIT BINARY
set -euo pipefail
mode=$1 unit=$2 binary=${3:-}

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
copy=$tmp/gomodprobe.service
sed "s#^ExecStart=/usr/bin/gomodprobe #ExecStart=${binary} #" "$unit" >"$copy"
if ! grep -q "^ExecStart=${binary} " "$copy"; then
  echo "check-unit: ExecStart does not start with /usr/bin/gomodprobe" >&2
  exit 1
fi

case $mode in
verify)
  # verify reports problems on stderr and not always with a non-zero exit: both count.
  if ! out=$(systemd-analyze verify --recursive-errors=no --man=no "$copy" 2>&1) || [[ -n $out ]]; then
    echo "$out" >&2
    echo "--- verified copy:" >&2
    cat "$copy" >&2
    exit 1
  fi
  echo "systemd-analyze verify: clean"
  ;;
security)
  status=0
  out=$(systemd-analyze security --offline=true --threshold=15 "$copy" 2>&1) || status=$?
  score=$(sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p' <<<"$out")
  if [[ $status -ne 0 || -z $score ]]; then
    echo "$out" >&2
    echo "check-unit: exposure ${score:-unknown} is above 1.5 (or analysis failed)" >&2
    exit 1
  fi
  grep '✗' <<<"$out" || true
  echo "systemd-analyze security: overall exposure $score (threshold 1.5)"
  ;;
contract)
  missing=0
  for line in "Type=notify" "NotifyAccess=main" "ExecReload=/bin/kill -HUP \$MAINPID" \
    "WatchdogSec=" "DynamicUser=yes" "StateDirectory=gomodprobe" \
    "ConfigurationDirectory=gomodprobe" "LoadCredential=" "CapabilityBoundingSet=" \
    "RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX" "ProtectSystem=strict" \
    "--storage.path=/var/lib/gomodprobe" "--config.file=/etc/gomodprobe/gomodprobe.yml"; do
    if ! grep -qF -- "$line" "$unit"; then
      echo "check-unit: $unit lacks '$line'" >&2
      missing=1
    fi
  done
  # An empty bounding set is the line with nothing after '='.
  grep -qx "CapabilityBoundingSet=" "$unit" || { echo "check-unit: capabilities not empty" >&2; missing=1; }
  exit $missing
  ;;
*)
  echo "usage: $0 verify|security|contract UNIT BINARY" >&2
  exit 2
  ;;
esac
