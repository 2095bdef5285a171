#!/usr/bin/env bash
# clang-format must leave every C++ file unchanged; clang-tidy (.clang-tidy, warnings are errors)
# must be clean on src/ (needs build/compile_commands.json: run scripts/build.sh first).
set -euo pipefail
cd "$(dirname "$0")/.."
mapfile -t files < <(git ls-files '*.cc' '*.h')
clang-format --dry-run -Werror "${files[@]}"
echo "clang-format: ${#files[@]} files clean"
mapfile -t sources < <(git ls-files 'src/*.cc')
run-clang-tidy -p build -quiet "${sources[@]}" > build/clang-tidy.log 2>&1 || {
  grep -E "error:|warning:" build/clang-tidy.log | head -50
  echo "clang-tidy: findings above (full log: build/clang-tidy.log)"
  exit 1
}
echo "clang-tidy: ${#sources[@]} files clean"
