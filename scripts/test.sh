#!/usr/bin/env bash
# Sets up a fresh Debian 12 machine, builds, checks formatting, and runs every test (unit and
# integration against real nginx/dnsmasq on loopback). Benchmarks (label "bench") are excluded.
# Then builds a second tree with ASan+UBSan (clang) and runs there every test that executes
# gomodprobe code (scripts/test-sanitizers.sh); any sanitizer report fails the test.
# Each step's wall time is printed ("step <name>: <s> s"): CI must stay under 30 minutes.
set -euo pipefail
cd "$(dirname "$0")/.."
step() {
  local name=$1 start=$SECONDS
  shift
  "$@"
  echo "step ${name}: $((SECONDS - start)) s (total $SECONDS s)"
}
step deps scripts/deps.sh
step build scripts/build.sh
step lint scripts/lint.sh
step tests ctest --test-dir build --output-on-failure -LE bench -j 2 --timeout 300
step sanitizers scripts/test-sanitizers.sh
