#!/usr/bin/env bash
# KPL aggregation against a stream at real shard limits (issue 17): the
# project's fake endpoint with SHARDS shards at Kinesis's per-shard limits
# (1,000 records/s and 1 MiB/s each), JSON lines of LINE_BYTES bytes with
# keys "{service}-{host}" (91 distinct), and kinship with its defaults (disk
# spool, pacing, CBOR) but for `aggregation`: first `none`, then `kpl`.
# Each run tails a file of lines from the beginning (more than the run can
# ship), lets kinship settle for WARMUP seconds, then counts over WINDOW
# seconds the records kinship delivered (kinship_sink_records_sent_total:
# user records), the Kinesis records that carried them, and the fake's
# accepted bytes and throttled records. Prints both runs and the ratio of
# user records/s, with the target (>= 8x) beside it.
#   bench/aggregation.sh [WINDOW (10)] [LINE_BYTES (100)] [SHARDS (4)]
# Needs build/kinship and build/kinship-fake-kinesis (bash scripts/build.sh
# release); KINSHIP_BENCH_KINSHIP runs another kinship binary.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
window="${1:-10}"
line_bytes="${2:-100}"
shards="${3:-4}"
warmup=3
kinship="${KINSHIP_BENCH_KINSHIP:-$repo/build/kinship}"
fake="${KINSHIP_BENCH_FAKE:-$repo/build/kinship-fake-kinesis}"
for b in "$kinship" "$fake"; do
  [[ -x "$b" ]] || { echo "aggregation.sh: $b missing: run bash scripts/build.sh release" >&2; exit 1; }
done

work="$(mktemp -d "${KINSHIP_BENCH_TMP:-/tmp}/kinship-bench-agg-XXXXXX")"
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

# Enough lines that neither run runs out: ~12,000 records/s of capacity per
# shard when aggregated, for warm-up plus window, twice over.
lines=$(( (warmup + window) * shards * 12000 * 2 ))
mkdir -p "$work/in"
awk -v n="$lines" -v size="$line_bytes" 'BEGIN {
  for (i = 0; i < n; i++) {
    line = sprintf("{\"seq\":%d,\"service\":\"svc%d\",\"host\":\"h%d\",\"msg\":\"", i, i % 7, i % 13);
    pad = size - length(line) - 2;
    for (j = 0; j < pad; j++) line = line "x";
    print line "\"}";
  }
}' >"$work/lines.log"

# metric URL NAME: the sum of a metric's samples.
metric() {
  curl -s "$1/metrics" | awk -v n="$2" 'index($0, n) == 1 && (substr($0, length(n) + 1, 1) == "{" ||
    substr($0, length(n) + 1, 1) == " ") { s += $NF } END { printf "%d", s }'
}
# fake_stat URL FIELD: a top-level number of the fake's /_fake/stats.
fake_stat() {
  curl -s "$1/_fake/stats" | grep -o "\"$2\":[0-9]*" | head -1 | cut -d: -f2
}

# run MODE: prints "records/s kinesis-records/s MB/s throttled/s"
run() {
  local mode="$1" dir="$work/$1"
  mkdir -p "$dir/in"
  cp "$work/lines.log" "$dir/in/app.log"
  "$fake" --port 0 --stream bench --shards "$shards" --records-per-second 1000 --bytes-per-second 1048576 \
    --max-stored-records 0 --no-duplicates >"$dir/fake.log" 2>&1 &
  local fpid=$!
  pids+=("$fpid")
  for _ in $(seq 100); do grep -qs listening "$dir/fake.log" && break; sleep 0.05; done
  local endpoint
  endpoint="$(grep -o 'http://127.0.0.1:[0-9]*' "$dir/fake.log" | head -1)"
  cat >"$dir/kinship.yaml" <<YAML
data_dir: $dir/state
pipelines:
  bench:
    inputs:
      - type: file
        paths: ["$dir/in/*.log"]
        start_at: beginning
        parser: json
    partition_key: "{service}-{host}"
    sink:
      type: kinesis
      stream: bench
      region: us-east-1
      endpoint: $endpoint
      aggregation: $mode
admin:
  listen: 127.0.0.1:0
YAML
  AWS_ACCESS_KEY_ID=bench AWS_SECRET_ACCESS_KEY=bench "$kinship" --config "$dir/kinship.yaml" 2>"$dir/kinship.log" &
  local kpid=$!
  pids+=("$kpid")
  for _ in $(seq 200); do grep -qs 'admin endpoint listening' "$dir/kinship.log" && break; sleep 0.05; done
  local admin
  admin="$(grep -o 'http://127.0.0.1:[0-9]*' "$dir/kinship.log" | head -1)"
  sleep "$warmup"
  local r0 k0 b0 t0 r1 k1 b1 t1 s0 s1
  s0=$(date +%s.%N)
  r0=$(metric "$admin" kinship_sink_records_sent_total)
  k0=$(metric "$admin" kinship_sink_kinesis_records_sent_total)
  b0=$(fake_stat "$endpoint" bytesAccepted)
  t0=$(fake_stat "$endpoint" recordsThrottled)
  sleep "$window"
  s1=$(date +%s.%N)
  r1=$(metric "$admin" kinship_sink_records_sent_total)
  k1=$(metric "$admin" kinship_sink_kinesis_records_sent_total)
  b1=$(fake_stat "$endpoint" bytesAccepted)
  t1=$(fake_stat "$endpoint" recordsThrottled)
  kill -0 "$kpid" 2>/dev/null || { cat "$dir/kinship.log" >&2; exit 1; }
  kill "$kpid" "$fpid" 2>/dev/null || true
  wait "$kpid" "$fpid" 2>/dev/null || true
  awk -v r="$((r1 - r0))" -v k="$((k1 - k0))" -v b="$((b1 - b0))" -v t="$((t1 - t0))" -v s0="$s0" -v s1="$s1" \
    'BEGIN { w = s1 - s0; printf "%.0f %.0f %.3f %.1f\n", r / w, k / w, b / 1048576 / w, t / w }'
}

echo "aggregation.sh: $shards shards at 1000 records/s and 1 MiB/s each, $line_bytes-byte lines, window ${window}s"
read -r none_rps none_krps none_mibps none_tps < <(run none)
printf '  aggregation none: %8.0f records/s  (%6.0f Kinesis records/s, %.2f MiB/s accepted, %.1f throttled/s)\n' \
  "$none_rps" "$none_krps" "$none_mibps" "$none_tps"
read -r kpl_rps kpl_krps kpl_mibps kpl_tps < <(run kpl)
printf '  aggregation kpl:  %8.0f records/s  (%6.0f Kinesis records/s, %.2f MiB/s accepted, %.1f throttled/s)\n' \
  "$kpl_rps" "$kpl_krps" "$kpl_mibps" "$kpl_tps"
awk -v a="$kpl_rps" -v n="$none_rps" -v m="$kpl_mibps" -v s="$shards" 'BEGIN {
  ratio = n > 0 ? a / n : 0;
  printf "  kpl / none: %.1fx (target >= 8x: %s); kpl used %.0f%% of the stream'"'"'s %d MiB/s\n",
    ratio, (ratio >= 8 ? "met" : "MISSED"), 100 * m / s, s
}'
