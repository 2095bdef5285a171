#!/usr/bin/env bash
# Configures and builds gomodprobe into build/ (extra CMake arguments are passed through; they come
# after the defaults below, so -DGOMODPROBE_TEST_UNITY_BUILD=OFF etc. override them).
#
# The agent, its library and the benchmarks are RelWithDebInfo (gcc -O2 -g, warnings are errors).
# The test executables' own sources (gtest code, fixtures) are unity-built with precompiled headers
# at -O1 -g1: on the 2-core CI machine that cuts the clean build from ~430 s to ~310 s (the test
# sources were 70 % of the compile time) and the test run is no slower (ctest 148 s against 158 s
# at -O0, where the reload storm's scraper parsing 7 MB expositions is 40 % slower).
set -euo pipefail
cd "$(dirname "$0")/.."
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DGOMODPROBE_TEST_UNITY_BUILD=ON \
  -DGOMODPROBE_TEST_PCH=ON "-DGOMODPROBE_TEST_COMPILE_OPTIONS=-O1;-g1" "$@" >/dev/null
cmake --build build -j "$(nproc)"
