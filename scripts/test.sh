#!/usr/bin/env bash
# Installs dependencies, builds release and ASan builds, and runs the tests:
#   all tests (unit + integration) on build/, the unit tests on build-asan/,
#   then the fuzz targets for a bounded time (scripts/fuzz.sh, build-fuzz/).
# All three runs always happen; exits non-zero if anything failed. The last
# line is "N passed, N failed" over all of them (the fuzz run counts as one).
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"

start=$SECONDS
# Seconds since the start, for each step's line: CI's time limit is what
# the sum must stay well under.
elapsed() { echo "test.sh: $1 after $((SECONDS - start)) s"; }

bash scripts/install.sh
elapsed "installed"
bash scripts/build.sh release
elapsed "built release"
bash scripts/build.sh asan
elapsed "built asan"

passed=0
failed=0
status=0

# Runs ctest, shows its output, and adds its summary line to the totals.
run_ctest() {
  local log rc=0
  log="$(mktemp)"
  echo "test.sh: ctest $*"
  ctest "$@" --output-on-failure 2>&1 | tee "$log" || rc=$?
  # "100% tests passed, 0 tests failed out of 12" (or "No tests were found!!!")
  local line
  line="$(grep -E '^[0-9]+% tests passed, [0-9]+ tests? failed out of [0-9]+' "$log" | tail -n 1 || true)"
  if [[ -n "$line" ]]; then
    local f total
    f="$(sed -E 's/^[0-9]+% tests passed, ([0-9]+) tests? failed out of ([0-9]+).*/\1/' <<<"$line")"
    total="$(sed -E 's/^[0-9]+% tests passed, ([0-9]+) tests? failed out of ([0-9]+).*/\2/' <<<"$line")"
    passed=$((passed + total - f))
    failed=$((failed + f))
  elif grep -q 'No tests were found' "$log"; then
    echo "test.sh: warning: no tests found by: ctest $*" >&2
  else
    echo "test.sh: no ctest summary from: ctest $*" >&2
    rc=1
  fi
  rm -f "$log"
  if ((rc != 0)); then status=1; fi
}

# As many tests at once as there are cores: the integration tests spend
# most of their time waiting on daemons and servers, and the suite takes
# about half as long on CI's two cores.
jobs="$(nproc)"
run_ctest --test-dir build -j"$jobs"
elapsed "tested release"
run_ctest --test-dir build-asan -L unit -j"$jobs"
elapsed "tested asan"

# The fuzz targets, a bounded time each (about 1.5 minutes in all); counted as
# one test.
echo "test.sh: scripts/fuzz.sh"
if bash scripts/fuzz.sh; then
  echo "test.sh: fuzz: passed"
  passed=$((passed + 1))
else
  echo "test.sh: fuzz: FAILED" >&2
  failed=$((failed + 1))
  status=1
fi

elapsed "fuzzed"

if ((passed + failed == 0)); then
  echo "test.sh: no test ran" >&2
  status=1
fi
echo "$passed passed, $failed failed"
exit "$status"
