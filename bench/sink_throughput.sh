#!/usr/bin/env bash
# Records/s and MB/s through the Kinesis sink into the project's fake
# endpoint: kinship tails a file of LINES lines of about LINE_BYTES bytes
# from the beginning and ships them; the fake accepts everything (no
# per-shard limits). Prints wall time, records/s, MB/s, kinship's CPU
# seconds (user+sys) and CPU seconds per GB, and its peak RSS.
#   bench/sink_throughput.sh [LINES (1000000)] [LINE_BYTES (200)] [PACING (false|true)] [SPOOL (memory|disk)] [PROTOCOL (cbor|json)]
# SPOOL disk puts the disk spool (fsync every 1s) between pipeline and sink.
# KINSHIP_WRAP, if set, prefixes the kinship command (e.g. "strace -f -c -o
# FILE"); the CPU and RSS printed are then the wrapper's.
# Needs build/kinship and build/kinship-fake-kinesis (bash scripts/build.sh release);
# KINSHIP_BENCH_KINSHIP runs another kinship binary (to compare commits).
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
lines="${1:-1000000}"
line_bytes="${2:-200}"
pacing="${3:-false}"
spool="${4:-memory}"
protocol="${5:-cbor}"
kinship="${KINSHIP_BENCH_KINSHIP:-$repo/build/kinship}"
fake="$repo/build/kinship-fake-kinesis"
for b in "$kinship" "$fake"; do
  [[ -x "$b" ]] || { echo "sink_throughput.sh: $b missing: run bash scripts/build.sh release" >&2; exit 1; }
done

work="$(mktemp -d /tmp/kinship-bench-XXXXXX)"
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
mkdir -p "$work/in"

# JSON lines padded to about LINE_BYTES bytes each.
awk -v n="$lines" -v size="$line_bytes" 'BEGIN {
  pad = ""; for (i = 0; i < size - 60; i++) pad = pad "x";
  for (i = 0; i < n; i++) printf "{\"seq\":%d,\"service\":\"svc%d\",\"host\":\"h%d\",\"msg\":\"%s\"}\n", i, i % 7, i % 13, pad
}' >"$work/in/app.log"
bytes=$(stat -c %s "$work/in/app.log")

"$fake" --port 0 --stream bench --shards 16 --records-per-second 1000000000 --bytes-per-second 1000000000000 \
  --max-stored-records 0 --no-duplicates >"$work/fake.log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do grep -q listening "$work/fake.log" && break; sleep 0.05; done
endpoint="$(grep -o 'http://127.0.0.1:[0-9]*' "$work/fake.log" | head -1)"

cat >"$work/kinship.yaml" <<YAML
data_dir: $work/state
pipelines:
  bench:
    inputs:
      - type: file
        paths: ["$work/in/*.log"]
        start_at: beginning
        parser: json
    partition_key: "{service}-{host}"
    spool: { mode: $spool }
    sink:
      type: kinesis
      stream: bench
      region: us-east-1
      endpoint: $endpoint
      pacing: $pacing
      protocol: $protocol
      shard_records_per_second: 1000000
      shard_bytes_per_second: 1GiB
      max_in_flight: 8
admin:
  listen: 127.0.0.1:0
YAML

start=$(date +%s.%N)
AWS_ACCESS_KEY_ID=bench AWS_SECRET_ACCESS_KEY=bench ${KINSHIP_WRAP:-} "$kinship" --config "$work/kinship.yaml" 2>"$work/kinship.log" &
kpid=$!
pids+=($kpid)
for _ in $(seq 200); do grep -q 'admin endpoint listening' "$work/kinship.log" && break; sleep 0.05; done
admin="$(grep -o 'http://127.0.0.1:[0-9]*' "$work/kinship.log" | head -1)"
sent=0
while ((sent < lines)); do
  sleep 0.05
  sent=$(curl -s "$admin/metrics" | awk '/^kinship_sink_records_sent_total/ {print int($2)}')
  sent=${sent:-0}
  kill -0 "$kpid" 2>/dev/null || { cat "$work/kinship.log" >&2; exit 1; }
done
end=$(date +%s.%N)
metrics="$(curl -s "$admin/metrics")"
requests=$(awk '/^kinship_sink_request_records_count/ {print int($2)}' <<<"$metrics")
ticks=$(getconf CLK_TCK)
read -r utime stime < <(awk '{print $14, $15}' "/proc/$kpid/stat")
rss_kib=$(awk '/VmHWM/ {print $2}' "/proc/$kpid/status")
# CPU seconds by thread name (the main thread runs the inputs and pipeline).
threads=$(for task in /proc/$kpid/task/*; do
  printf '%s %s\n' "$(cat "$task/comm")" "$(awk '{print $14 + $15}' "$task/stat")"
done | awk -v t="$ticks" '{cpu[$1] += $2} END {for (n in cpu) if (cpu[n] > 0) printf " %s %.2f s,", n, cpu[n] / t}')

awk -v l="$lines" -v b="$bytes" -v s="$start" -v e="$end" -v u="$utime" -v y="$stime" -v t="$ticks" -v r="$rss_kib" \
  -v p="$pacing" -v sp="$spool" -v pr="$protocol" -v q="${requests:-0}" -v th="${threads%,}" 'BEGIN {
  wall = e - s; cpu = (u + y) / t;
  printf "sink throughput (pacing %s, spool %s, protocol %s): %d lines, %.1f MB in %.2f s\n", p, sp, pr, l, b / 1e6, wall;
  printf "  %.0f records/s, %.1f MB/s\n", l / wall, b / 1e6 / wall;
  printf "  kinship CPU %.2f s (user+sys) = %.2f CPU-s per GB; peak RSS %.1f MiB\n", cpu, cpu / (b / 1e9), r / 1024;
  printf "  by thread:%s\n", th;
  if (q > 0) printf "  %d PutRecords requests, %.0f records each on average\n", q, l / q;
}'
