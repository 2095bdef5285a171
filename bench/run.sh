#!/usr/bin/env bash
# Builds gomodprobe (scripts/build.sh, extra arguments passed through) and runs every benchmark
# in build/bench/. Benchmarks measure and report; they exit 0 whether or not their goals are met.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/build.sh "$@"
echo "uptime:$(uptime)"
status=0
for bench in build/bench/gomodprobe_*_bench; do
  [[ -x "$bench" ]] || continue
  echo "== $(basename "$bench")"
  "$bench" || status=1
done
exit "$status"
