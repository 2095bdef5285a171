#!/usr/bin/env bash
# Sets up a fresh Debian 12 machine, builds, checks formatting, and runs every test (unit and
# integration against real nginx/dnsmasq on loopback). Benchmarks (label "bench") are excluded.
# Then builds a second tree with ASan+UBSan (clang) and runs there every test that executes
# gomodprobe code (scripts/test-sanitizers.sh); any sanitizer report fails the test.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
scripts/build.sh
scripts/lint.sh
ctest --test-dir build --output-on-failure -LE bench -j 2 --timeout 300
scripts/test-sanitizers.sh
