#!/usr/bin/env bash
# Configures and builds kinship.
#   scripts/build.sh [release]  -> build/       (Release: -O3, as packagers build it)
#   scripts/build.sh asan       -> build-asan/  (Debug, AddressSanitizer + UBSan)
#   scripts/build.sh asan-unit  -> build-asan/, only the unit tests' executables
#                                  (what CI runs under the sanitizers)
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
  asan|asan-unit) dir="$repo/build-asan"; flags=(-DKINSHIP_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug -DKINSHIP_WERROR=ON) ;;
  -h|--help) echo "usage: scripts/build.sh [release|asan|asan-unit] [cmake options...]"; exit 0 ;;
  *) echo "usage: scripts/build.sh [release|asan|asan-unit] [cmake options...]" >&2; exit 2 ;;
esac

echo "build.sh: $mode -> ${dir#"$repo"/}"
# One build of a directory at a time: two makes in one tree (two terminals,
# an editor's build on save) corrupt each other's objects.
mkdir -p "$dir"
exec 9>"$dir/.build.lock"
flock 9
cmake -S "$repo" -B "$dir" "${flags[@]}" "$@"
if [[ "$mode" == asan-unit ]]; then
  # The unit tests' executables, named by their tests (unit.<folder>.<name>):
  # the daemon, the fake endpoint and the benchmarks are not built, which
  # saves CI a third of the sanitizer build.
  mapfile -t targets < <(ctest --test-dir "$dir" -N -L unit |
    sed -n 's/^ *Test *#[0-9]*: unit\.[a-z_]*\.\([A-Za-z0-9_]*\)$/\1/p')
  ((${#targets[@]})) || { echo "build.sh: no unit tests found in ${dir#"$repo"/}" >&2; exit 1; }
  cmake --build "$dir" -j"$(nproc)" --target "${targets[@]}"
else
  cmake --build "$dir" -j"$(nproc)"
fi
