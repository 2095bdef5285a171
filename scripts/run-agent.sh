#!/usr/bin/env bash
# Sets up a fresh Debian 12 machine, builds, and runs the agent with its embedded default config
# (one goproxy target per GOPROXY entry, one sumdb target for GOSUMDB) on :9817.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
scripts/build.sh
exec build/src/gomodprobe "$@"
