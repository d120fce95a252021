#!/usr/bin/env bash
# Configures and builds kinship.
#   scripts/build.sh [release]  -> build/       (Release: -O3, as packagers build it)
#   scripts/build.sh asan       -> build-asan/  (Debug -g1, AddressSanitizer + UBSan, no benchmarks)
# Extra arguments after the mode are passed to cmake's configure step.
# Does not install dependencies: run scripts/install.sh first.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
mode="${1:-release}"
shift || true

case "$mode" in
  # The packager's build type (-O3, where g++ 12 has given false warnings)
  # with warnings as errors: CI proves it builds warning-free, so the same
  # build without -Werror (a packager's default) builds too.
  release) dir="$repo/build"; flags=(-DCMAKE_BUILD_TYPE=Release -DKINSHIP_WERROR=ON) ;;
  # Only the unit tests run under the sanitizers: no benchmarks there, and
  # line tables (-g1) rather than full debug info, which is all a sanitizer
  # report's stack needs (a fresh build took 275 s instead of 301 on CI's
  # two cores).
  asan) dir="$repo/build-asan"; flags=(-DKINSHIP_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_FLAGS_DEBUG=-g1 -DKINSHIP_WERROR=ON -DKINSHIP_BENCH=OFF) ;;
  -h|--help) echo "usage: scripts/build.sh [release|asan] [cmake options...]"; exit 0 ;;
  *) echo "usage: scripts/build.sh [release|asan] [cmake options...]" >&2; exit 2 ;;
esac

echo "build.sh: $mode -> ${dir#"$repo"/}"
# One build of a directory at a time: two makes in one tree (two terminals,
# an editor's build on save) corrupt each other's objects.
mkdir -p "$dir"
exec 9>"$dir/.build.lock"
flock 9
cmake -S "$repo" -B "$dir" "${flags[@]}" "$@"
cmake --build "$dir" -j"$(nproc)"
