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
# Side by side with prometheus-blackbox-exporter (scripts/deps.sh installs it): CPU/RSS per probe
# on 100 loopback HTTPS targets (about 5 minutes), then phase timing accuracy.
if command -v prometheus-blackbox-exporter >/dev/null; then
  echo "== compare_blackbox"
  python3 bench/compare_blackbox.py || status=1
  echo "== timing_accuracy"
  python3 bench/timing_accuracy.py || status=1
else
  echo "== compare_blackbox, timing_accuracy: skipped (prometheus-blackbox-exporter not installed)"
fi
# Daemon RSS at start and reload with 10,000 targets (about 1 minute).
echo "== reload_rss"
python3 bench/reload_rss.py || status=1
# 10,000 loopback HTTPS targets at 60 s, then half of them black-holed (about 15 minutes).
echo "== scale"
python3 bench/scale.py || status=1
exit "$status"
