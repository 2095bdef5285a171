#!/usr/bin/env bash
# Builds the libFuzzer harnesses (tests/fuzz/) with clang into build-fuzz/ and either runs their
# short regression (ctest label "fuzz": each checked-in corpus + up to 2000 new inputs), or, with
# arguments `<harness> <seconds>`, fuzzes one harness for that long, keeping new inputs in
# build-fuzz/tests/fuzz/work/<harness> (copy the interesting ones to tests/fuzz/corpus/<harness>).
# Extra CMake arguments come from GOMODPROBE_FUZZ_CMAKE_ARGS (e.g. the ccache launcher).
# clang's extra warnings are not errors here (the gcc build enforces -Werror).
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck disable=SC2086
CXX=${CXX:-clang++} cmake -S . -B build-fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DGOMODPROBE_BUILD_FUZZERS=ON -DGOMODPROBE_BUILD_TESTS=OFF -DGOMODPROBE_WARNINGS_AS_ERRORS=OFF \
  ${GOMODPROBE_FUZZ_CMAKE_ARGS:-} >/dev/null
cmake --build build-fuzz -j "$(nproc)"
if (($# == 0)); then
  exec ctest --test-dir build-fuzz --output-on-failure -L fuzz -j 2
fi
name=$1
seconds=${2:-600}
work=build-fuzz/tests/fuzz/work/$name
mkdir -p "$work"
dict=()
if [[ -f tests/fuzz/dict/$name.dict ]]; then
  dict=(-dict="tests/fuzz/dict/$name.dict")
fi
exec build-fuzz/tests/fuzz/fuzz_"$name" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
  -print_final_stats=1 -artifact_prefix=build-fuzz/tests/fuzz/artifacts/"$name"- "${dict[@]}" \
  "$work" tests/fuzz/corpus/"$name"
