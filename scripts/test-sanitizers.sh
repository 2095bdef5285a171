#!/usr/bin/env bash
# Builds gomodprobe with AddressSanitizer + UndefinedBehaviorSanitizer into build-asan/ and runs the
# unit and integration tests there. Any ASan, LeakSanitizer or UBSan report aborts the process that
# made it, so the test fails. Extra CMake arguments (e.g. -DCMAKE_CXX_COMPILER_LAUNCHER=ccache) are
# passed through. Subprocesses the fixture starts (nginx, dnsmasq, go) are not instrumented; the
# agent binary the integration tests start is, and inherits the options below.
set -euo pipefail
cd "$(dirname "$0")/.."
build_dir=${GOMODPROBE_ASAN_BUILD_DIR:-build-asan}
start=$(date +%s)
cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DGOMODPROBE_SANITIZE=address+undefined "$@" >/dev/null
cmake --build "$build_dir" -j "$(nproc)"
built=$(date +%s)
# LeakSanitizer needs ptrace (it stops the threads to scan their stacks); without it every
# instrumented process fails at exit, so detect_leaks=1 also proves leak checking ran.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:halt_on_error=1:abort_on_error=0:strict_string_checks=1:detect_stack_use_after_return=1:check_initialization_order=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}
export LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$PWD/scripts/lsan.supp:print_suppressions=0}
status=0
ctest --test-dir "$build_dir" --output-on-failure -L 'unit|integration|fuzz' -j 2 --timeout 600 ||
  status=$?
end=$(date +%s)
echo "sanitizers: build $((built - start)) s, tests $((end - built)) s"
exit "$status"
