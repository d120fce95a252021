#!/usr/bin/env bash
# Builds the libFuzzer targets (tests/fuzz) with clang, ASan and UBSan in
# build-fuzz/, and runs each for a bounded time over a scratch copy of its
# seed corpus (tests/fuzz/corpus/<target>/; new inputs are never written
# into the repository).
#   scripts/fuzz.sh [SECONDS_PER_TARGET]   (default 12, or $KINSHIP_FUZZ_SECONDS)
# Prints one line per target; exits non-zero if a target does not build or
# finds a crash, a sanitizer report, a leak, a timeout or an out-of-memory.
# A failing input is kept in build-fuzz/artifacts/ to reproduce with
#   build-fuzz/tests/fuzz/<target> <input>
# Does not install dependencies: run scripts/install.sh first.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# 12 s for each of eleven targets, two at a time on CI's two cores: the fuzz
# step takes about 70 s plus the build, in a suite that must stay well under
# CI's 20 minutes (at 20 s each the whole suite took 17).
seconds="${1:-${KINSHIP_FUZZ_SECONDS:-12}}"
dir="$repo/build-fuzz"
artifacts="$dir/artifacts"

# Target and the longest input it is given: answers and templates need a
# few records' worth, the expander a long config value, a container log
# several lines and a framed stream several frames.
targets=(put_records_response_fuzz error_type_fuzz key_template_fuzz logfmt_fuzz regex_fuzz syslog_fuzz
         record_filter_fuzz substitute_env_fuzz record_encoder_fuzz container_log_fuzz octet_frame_fuzz)
declare -A max_len=([put_records_response_fuzz]=8192 [error_type_fuzz]=4096 [key_template_fuzz]=4096
                    [logfmt_fuzz]=4096 [regex_fuzz]=4096 [syslog_fuzz]=4096 [record_filter_fuzz]=4096
                    [substitute_env_fuzz]=4096 [record_encoder_fuzz]=4096 [container_log_fuzz]=4096
                    [octet_frame_fuzz]=4096)

scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT

start=$(date +%s)
echo "fuzz.sh: building ${targets[*]} -> ${dir#"$repo"/}"
if ! CC=clang CXX=clang++ cmake -S "$repo" -B "$dir" -DKINSHIP_FUZZ=ON -DKINSHIP_TESTS=OFF \
    -DCMAKE_BUILD_TYPE=Debug >"$scratch/configure.log" 2>&1; then
  cat "$scratch/configure.log" >&2
  echo "fuzz.sh: configure failed" >&2
  exit 1
fi
cmake --build "$dir" -j"$(nproc)" --target "${targets[@]}"
built=$(date +%s)
echo "fuzz.sh: built in $((built - start)) s; running each target ${seconds} s"

mkdir -p "$artifacts"

# Runs one target; its verdict lands in $scratch/<target>/verdict.
run_target() {
  local target="$1" rc=0
  mkdir -p "$scratch/$target/corpus"
  cp "$repo/tests/fuzz/corpus/$target/"* "$scratch/$target/corpus/"
  (cd "$scratch/$target" &&
    "$dir/tests/fuzz/$target" -max_total_time="$seconds" -max_len="${max_len[$target]}" -rss_limit_mb=512 \
      -timeout=10 -print_final_stats=1 -artifact_prefix="$artifacts/$target-" corpus) >"$scratch/$target/log" 2>&1 ||
    rc=$?
  echo "$rc" >"$scratch/$target/verdict"
}

# As many targets at once as there are cores: each still gets its seconds
# of a whole core, and the run takes half the time on CI's two.
jobs_max="$(nproc)"
for target in "${targets[@]}"; do
  while (($(jobs -rp | wc -l) >= jobs_max)); do wait -n || true; done
  run_target "$target" &
done
wait

status=0
for target in "${targets[@]}"; do
  log="$scratch/$target/log"
  rc="$(cat "$scratch/$target/verdict" 2>/dev/null || echo 1)"
  runs="$(sed -nE 's/^stat::number_of_executed_units: *([0-9]+).*/\1/p' "$log" | tail -n 1)"
  if ((rc == 0)); then
    echo "fuzz.sh: $target: ok (${runs:-?} inputs in ${seconds} s)"
  else
    echo "fuzz.sh: $target: FAILED (exit $rc); the input is in ${artifacts#"$repo"/}/" >&2
    grep -E 'ERROR|SUMMARY|runtime error|Test unit written' "$log" | head -n 20 >&2 || tail -n 40 "$log" >&2
    status=1
  fi
done
echo "fuzz.sh: done in $(($(date +%s) - start)) s"
exit "$status"
