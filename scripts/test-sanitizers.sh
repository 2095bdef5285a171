#!/usr/bin/env bash
# Builds gomodprobe with AddressSanitizer + UndefinedBehaviorSanitizer into build-asan/ and runs
# there every test that executes gomodprobe code (ctest labels unit, integration, systemd). Any
# ASan, LeakSanitizer or UBSan report aborts the process that made it, so the test fails.
# scripts/test.sh (the CI command) runs it after the normal build's tests. Extra CMake arguments
# (e.g. -DCMAKE_CXX_COMPILER_LAUNCHER=ccache) are passed through. Subprocesses the fixture starts
# (nginx, dnsmasq, go) are not instrumented; the agent binary the integration tests start is, and
# inherits the options below.
#
# Build-time cuts (this tree is compiled from scratch in CI, on 2 cores): clang, whose ASan
# instrumentation compiles ~2.5x faster than gcc's; -O1 with line tables only (stack traces keep
# file:line, no full debug info); the test sources at -O0 (the unit tests unity-built) with
# precompiled gtest, gmock and library headers; no benchmarks, fuzzers or fixture server. The
# normal tree (gcc -O2, -Werror) keeps the warnings strict.
set -euo pipefail
cd "$(dirname "$0")/.."
build_dir=${GOMODPROBE_ASAN_BUILD_DIR:-build-asan}
start=$(date +%s)
CXX=${GOMODPROBE_ASAN_CXX:-clang++} cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=Debug \
  -DCMAKE_CXX_FLAGS_DEBUG="-O1 -gline-tables-only" -DGOMODPROBE_SANITIZE=address+undefined \
  -DGOMODPROBE_WARNINGS_AS_ERRORS=OFF -DGOMODPROBE_BUILD_BENCH=OFF \
  -DGOMODPROBE_TEST_UNITY_BUILD=ON -DGOMODPROBE_TEST_PCH=ON -DGOMODPROBE_TEST_COMPILE_OPTIONS=-O0 \
  "$@" >/dev/null
cmake --build "$build_dir" -j "$(nproc)" --target gomodprobe gomodprobe_unit_tests \
  gomodprobe_integration_tests gomodprobe_fuzz_replays
built=$(date +%s)
# LeakSanitizer needs ptrace (it stops the threads to scan their stacks); without it every
# instrumented process fails at exit, so detect_leaks=1 also proves leak checking ran.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:halt_on_error=1:abort_on_error=0:strict_string_checks=1:detect_stack_use_after_return=1:check_initialization_order=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}
export LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$PWD/scripts/lsan.supp:print_suppressions=0}
status=0
ctest --test-dir "$build_dir" --output-on-failure -L 'unit|integration|systemd' -j 2 \
  --timeout 600 || status=$?
end=$(date +%s)
echo "sanitizers: build $((built - start)) s, tests $((end - built)) s"
exit "$status"
