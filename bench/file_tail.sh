#!/usr/bin/env bash
# Lines/s and MB/s through the file input and the pipeline, into the discard
# sink (no network, no encoding): kinship tails a file of LINES JSON lines of
# about LINE_BYTES bytes from the beginning, twice:
#   json: parser: json, partition_key "{service}-{host}" (parse + key template)
#   raw:  parser: raw, no partition_key (a random key per record)
#   enriched: as json, with add_fields (2), add_metadata (hostname, source,
#         ingest_time, record_id) and encoding: json with a trailing newline:
#         the pipeline's enrichment and encoding cost; not run by default
#   multiline: as raw, with `multiline` whose start pattern matches every
#         line (each line is still a record: the cost of the pattern match
#         and of the copy into the record buffer); not run by default
# For each, prints wall time (start of kinship to the last record counted by
# the sink), lines/s, MB/s, kinship's CPU seconds (user+sys, from
# /proc/PID/stat) and CPU seconds per GB, and its peak RSS (VmHWM).
#   bench/file_tail.sh [LINES (2000000)] [LINE_BYTES (200)] [MODES ("json raw")]
# Needs build/kinship (bash scripts/build.sh release), or set KINSHIP_BIN.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
lines="${1:-2000000}"
line_bytes="${2:-200}"
modes="${3:-json raw}"
kinship="${KINSHIP_BIN:-$repo/build/kinship}"
[[ -x "$kinship" ]] || { echo "file_tail.sh: $kinship missing: run bash scripts/build.sh release" >&2; exit 1; }

work="$(mktemp -d /tmp/kinship-bench-XXXXXX)"
kpid=""
cleanup() {
  [[ -n "$kpid" ]] && kill "$kpid" 2>/dev/null || true
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
mkdir -p "$work/in"

# JSON lines padded to about LINE_BYTES bytes each (7 services x 13 hosts).
awk -v n="$lines" -v size="$line_bytes" 'BEGIN {
  pad = ""; for (i = 0; i < size - 60; i++) pad = pad "x";
  for (i = 0; i < n; i++) printf "{\"seq\":%d,\"service\":\"svc%d\",\"host\":\"h%d\",\"msg\":\"%s\"}\n", i, i % 7, i % 13, pad
}' >"$work/in/app.log"
bytes=$(stat -c %s "$work/in/app.log")
echo "file_tail: $lines lines, $(awk -v b="$bytes" 'BEGIN { printf "%.1f", b / 1e6 }') MB, $("$kinship" --version 2>&1 | head -1)"

run() {
  local mode="$1" parser key_line
  case "$mode" in
    json) parser=json; key_line='    partition_key: "{service}-{host}"' ;;
    raw) parser=raw; key_line='' ;;
    enriched) parser=json; key_line='    partition_key: "{service}-{host}"
    add_fields: { cluster: bench, pod: bench-pod }
    add_metadata: { node: hostname, file: source, at: ingest_time, id: record_id }
    encoding: json
    trailing_newline: true' ;;
    multiline) parser=raw; key_line="        multiline: { start: '^\\{\"seq\":', timeout: 10ms }" ;;
    *) echo "file_tail.sh: unknown mode $mode (json, raw, enriched, multiline)" >&2; exit 2 ;;
  esac
  rm -rf "$work/state"
  cat >"$work/kinship.yaml" <<YAML
data_dir: $work/state
pipelines:
  bench:
    inputs:
      - type: file
        paths: ["$work/in/*.log"]
        start_at: beginning
        parser: $parser
$key_line
    spool: { mode: memory }
    sink:
      type: discard
admin:
  listen: 127.0.0.1:0
YAML

  local start end admin sent=0 utime stime rss_kib
  start=$(date +%s.%N)
  "$kinship" --config "$work/kinship.yaml" 2>"$work/kinship.log" &
  kpid=$!
  for _ in $(seq 400); do grep -q 'admin endpoint listening' "$work/kinship.log" && break; sleep 0.01; done
  admin="$(grep -o 'http://127.0.0.1:[0-9]*' "$work/kinship.log" | head -1)"
  [[ -n "$admin" ]] || { cat "$work/kinship.log" >&2; exit 1; }
  while ((sent < lines)); do
    sleep 0.02
    sent=$(curl -s "$admin/metrics" | awk '/^kinship_sink_records_sent_total/ {print int($2)}')
    sent=${sent:-0}
    kill -0 "$kpid" 2>/dev/null || { cat "$work/kinship.log" >&2; exit 1; }
  done
  end=$(date +%s.%N)
  read -r utime stime < <(awk '{print $14, $15}' "/proc/$kpid/stat")
  rss_kib=$(awk '/VmHWM/ {print $2}' "/proc/$kpid/status")
  kill -TERM "$kpid"
  wait "$kpid" || true
  kpid=""

  awk -v m="$mode" -v l="$lines" -v b="$bytes" -v s="$start" -v e="$end" -v u="$utime" -v y="$stime" \
    -v t="$(getconf CLK_TCK)" -v r="$rss_kib" 'BEGIN {
    wall = e - s; cpu = (u + y) / t;
    printf "  %-4s %.2f s  %9.0f lines/s  %6.1f MB/s  CPU %.2f s (user+sys) = %.2f CPU-s per GB  peak RSS %.1f MiB\n",
      m, wall, l / wall, b / 1e6 / wall, cpu, cpu / (b / 1e9), r / 1024;
  }'
}

for mode in $modes; do run "$mode"; done
