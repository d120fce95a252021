#!/usr/bin/env bash
# The benchmark suite (issue 6): runs the scenarios against the project's fake
# Kinesis endpoint and prints, for each, lines/s, MB/s, kinship's CPU seconds
# per GB (user+sys from /proc/PID/stat), its peak RSS (VmHWM) and the
# end-to-end latency p50/p99 (line written -> record accepted by the
# endpoint) at a steady 10,000 lines/s, then one table with the targets.
#
#   bash bench/run.sh [--quick] [SCENARIO...]      (default: all, u first)
#
#   u  what users run: as d (the disk spool, the default) over HTTPS (the
#      fake with a self-signed certificate, trusted through ca_file), CBOR
#   v  as u, with the endpoint answering 25 ms late, as Kinesis does
#   w  as v, with answers that vary as a real endpoint's do: half at once,
#      half 50 ms late (25 ms on average, as v)
#   a  JSON lines (200 B) tailed from the beginning, parser json,
#      partition_key "{service}-{host}", spool memory, plain HTTP
#   b  the same lines, parser raw, random keys
#   c  UDP at a fixed offered rate (100,000 datagrams/s for 10 s), received
#      and dropped per kinship's /metrics; needs build/kinship-datagram-sender
#      (skipped without it)
#   d  as a, with the disk spool (mode disk, fsync 1s)
#   e  small records: 50-byte JSON lines (ts, seq, msg), parser json, random
#      keys; no KPL aggregation yet, so one Kinesis record per line
#   f  as a, enriched and re-encoded: add_fields (2 static), add_metadata
#      (hostname, source, ingest_time, record_id), encoding json with a
#      trailing newline (each JSON line spliced with 6 fields, ~180 B more)
#   m  memory per tailed file (issue 19): 1,000 files of 20 JSON lines
#      (205 B) under one glob, tailed from the beginning (parser json, key
#      "{service}-{host}", the disk spool, plain HTTP, the other options
#      default) until the fake has every line; then 1 file of 20 lines and
#      1 file of all 20,000, the same way. Prints the peak RSS of each (the
#      median of three runs for the first two) and the cost per file:
#      (peak with 1,000 files - peak with 1 file of 20 lines) / 999. Takes
#      about 5 s; the same in --quick runs
#
# Sizes: 5,000,000 lines (1 GB at 200 B) per file scenario; --quick:
# 1,000,000 lines (200 MB), UDP for 3 s, latency runs of 10 s instead of 20 s.
#
# Each file scenario has two phases, each with a fresh kinship and fake:
#   throughput: the whole file is generated first (kinship-log-generator),
#     then kinship starts and ships it; wall time runs from kinship's start to
#     the fake having accepted every line (polled every 50 ms), so it
#     includes start-up. The fake has 16 shards without limits; kinship runs
#     its defaults (pacing on, adaptive concurrency up to max_in_flight 64,
#     linger) except per-shard limits raised to match the fake.
#   latency: kinship's default sink settings (pacing at 1000 records/s and
#     1 MiB/s per shard, default linger) against a fake with Kinesis's
#     per-shard limits and 32 shards; the generator appends 10,000 lines/s,
#     each stamped with its write time, and the fake (--latency-field ts)
#     keeps the histogram of accept time - write time.
#
# First runs scripts/install.sh and scripts/build.sh release (both skip
# what is already done), so it works from a fresh clone and always measures
# the checkout; KINSHIP_BENCH_NO_BUILD=1 skips that and uses build/ as it is.
# Environment: KINSHIP_BENCH_TMP (default /tmp) holds the generated files
# (1.3 GB for a full run) and the spool; KINSHIP_DATAGRAM_SENDER overrides
# the sender's path (default build/kinship-datagram-sender);
# KINSHIP_BENCH_PROTOCOL sets the sink's protocol (cbor, the default, or json);
# KINSHIP_BENCH_KINSHIP runs another kinship binary (one built from an older
# commit, to compare) with the rest of build/; KINSHIP_BENCH_SINK_YAML adds
# lines to every scenario's sink section (indented six spaces, e.g.
# "      concurrency: fixed").
set -Eeuo pipefail
# A failing command must not end the run silently.
trap 'echo "run.sh: line $LINENO: \"$BASH_COMMAND\" failed" >&2' ERR

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
usage() { sed -n '2,/^set -/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//' || true; }

quick=0
scenarios=()
for arg in "$@"; do
  case "$arg" in
    --quick) quick=1 ;;
    -h|--help) usage; exit 0 ;;
    u|v|w|a|b|c|d|e|f|m) scenarios+=("$arg") ;;
    *) echo "run.sh: unknown argument \"$arg\" (--quick, u, v, w, a, b, c, d, e, f, m; see --help)" >&2; exit 2 ;;
  esac
done
((${#scenarios[@]})) || scenarios=(u v w a b c d e f m)

kinship="${KINSHIP_BENCH_KINSHIP:-$repo/build/kinship}"
fake="$repo/build/kinship-fake-kinesis"
generator="$repo/build/kinship-log-generator"
sender="${KINSHIP_DATAGRAM_SENDER:-$repo/build/kinship-datagram-sender}"
if [[ "${KINSHIP_BENCH_NO_BUILD:-}" != 1 ]]; then
  build_log="${KINSHIP_BENCH_TMP:-/tmp}/kinship-bench-build.log"
  echo "run.sh: installing what is missing and building build/ (output in $build_log)"
  if ! { bash "$repo/scripts/install.sh" && bash "$repo/scripts/build.sh" release; } >"$build_log" 2>&1; then
    tail -n 30 "$build_log" >&2
    echo "run.sh: install or build failed; the whole output is in $build_log" >&2
    exit 1
  fi
fi
for b in "$kinship" "$fake" "$generator"; do
  [[ -x "$b" ]] || { echo "run.sh: $b missing: run bash scripts/build.sh release" >&2; exit 1; }
done

if ((quick)); then
  lines=1000000 udp_seconds=3 latency_seconds=10
else
  lines=5000000 udp_seconds=10 latency_seconds=20
fi
line_bytes=200 small_bytes=50
udp_rate=100000 latency_rate=10000
poll=0.05 timeout_s=900
ticks=$(getconf CLK_TCK)
# The default linger, from the binary's own schema, so the target follows it.
schema="$("$kinship" --print-schema)"
linger="$(awk -F'|' '$2 ~ /`linger`/ && !done { gsub(/[ `]/, "", $4); print $4; done = 1 }' <<<"$schema")"
linger_ms="$(awk -v l="$linger" 'BEGIN { v = l + 0; if (l ~ /ms$/) print v; else if (l ~ /s$/) print v * 1000; else print v }')"

work="$(mktemp -d "${KINSHIP_BENCH_TMP:-/tmp}/kinship-bench-XXXXXX")"
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
# RSA 2048, as AWS's certificates; the handshake happens once per connection.
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$work/tls.key" -out "$work/tls.crt" -days 1 -subj /CN=127.0.0.1 \
  -addext subjectAltName=IP:127.0.0.1 >/dev/null 2>&1 || die "openssl could not make a certificate"

die() { echo "run.sh: $*" >&2; exit 1; }
load() { awk '{ print $1, $2, $3 }' /proc/loadavg; }
cpu_seconds() { awk -v t="$ticks" '{ printf "%.2f", ($14 + $15) / t }' "/proc/$1/stat"; }
rss_mib() { awk '/VmHWM/ { printf "%.1f", $2 / 1024 }' "/proc/$1/status"; }
# Sum of a metric's samples on kinship's /metrics, optionally only those
# whose labels contain $3 (e.g. reason="queue_full").
metric() {
  curl -s "$1/metrics" | awk -v n="$2" -v f="${3:-}" '
    index($0, n) == 1 && (substr($0, length(n) + 1, 1) == "{" || substr($0, length(n) + 1, 1) == " ") &&
    (f == "" || index($0, f)) { s += $NF } END { printf "%d", s }'
}
# Scenarios u, v and w: the fake speaks HTTPS with this certificate (made
# once per run), and answers this many ms late, this share of requests.
tls=0 delay_ms=0 delay_rate=1
# The fake's control API (over HTTPS when tls=1).
fake_curl() { curl -s --max-time 5 --cacert "$work/tls.crt" "$@"; }
# The fake's accepted-record count; empty if it does not answer.
accepted() { fake_curl "$fake_url/_fake/records?count" | sed -n 's/.*"accepted":\([0-9]*\).*/\1/p' || true; }

# start_fake SHARDS unlimited|kinesis: a fresh fake; sets fake_url, fake_pid.
start_fake() {
  local extra=()
  [[ "$2" == unlimited ]] && extra=(--records-per-second 0 --bytes-per-second 0)
  ((tls)) && extra+=(--tls-cert "$work/tls.crt" --tls-key "$work/tls.key")
  ((delay_ms)) && extra+=(--delay-ms "$delay_ms" --delay-rate "$delay_rate")
  "$fake" --port 0 --stream bench --shards "$1" "${extra[@]}" --max-stored-records 0 --no-duplicates \
    --latency-field ts >"$work/fake.out" 2>&1 &
  fake_pid=$!
  pids+=("$fake_pid")
  for _ in $(seq 200); do grep -q listening "$work/fake.out" && break; sleep 0.02; done
  fake_url="$(grep -o -m1 'https*://127.0.0.1:[0-9]*' "$work/fake.out" || true)"
  [[ -n "$fake_url" ]] || die "the fake did not start: $(cat "$work/fake.out")"
}
stop_pid() { kill -TERM "$1" 2>/dev/null || true; wait "$1" 2>/dev/null || true; }

# write_config INPUT_YAML KEY_LINE SPOOL_MODE SINK_EXTRA_YAML
write_config() {
  rm -rf "$work/state"
  cat >"$work/kinship.yaml" <<YAML
data_dir: $work/state
pipelines:
  bench:
    inputs:
$1
$2
    spool: { mode: $3, fsync: 1s }
    sink:
      type: kinesis
      stream: bench
      region: us-east-1
      endpoint: $fake_url
      protocol: ${KINSHIP_BENCH_PROTOCOL:-cbor}
$( ((tls)) && echo "      ca_file: $work/tls.crt")
$4
${KINSHIP_BENCH_SINK_YAML:-}
admin:
  listen: 127.0.0.1:0
YAML
}

# start_kinship: sets kpid, admin, start (epoch seconds).
start_kinship() {
  start=$(date +%s.%N)
  AWS_ACCESS_KEY_ID=bench AWS_SECRET_ACCESS_KEY=bench "$kinship" --config "$work/kinship.yaml" 2>"$work/kinship.log" &
  kpid=$!
  pids+=("$kpid")
  for _ in $(seq 400); do grep -q 'admin endpoint listening' "$work/kinship.log" && break; sleep 0.02; done
  admin="$(grep -o -m1 'http://127.0.0.1:[0-9]*' "$work/kinship.log" || true)"
  [[ -n "$admin" ]] || { cat "$work/kinship.log" >&2; die "kinship did not start"; }
}

# wait_accepted N: until the fake has accepted N records; fails on timeout or
# if kinship exits.
wait_accepted() {
  local deadline=$((SECONDS + timeout_s)) got=0
  : >"$work/progress"
  while ((got < $1)); do
    sleep "$poll"
    got=$(accepted)
    got=${got:-0}
    echo "$(date +%s.%N) $got" >>"$work/progress"
    kill -0 "$kpid" 2>/dev/null || { cat "$work/kinship.log" >&2; die "kinship exited"; }
    kill -0 "$fake_pid" 2>/dev/null || { cat "$work/fake.out" >&2; die "the fake exited"; }
    ((SECONDS < deadline)) || die "timeout: the fake accepted $got of $1 records in ${timeout_s}s"
  done
}

file_input() { # PATHS PARSER
  printf '      - type: file\n        paths: ["%s"]\n        start_at: beginning\n        parser: %s' "$1" "$2"
}
unlimited_sink='      shard_records_per_second: 1000000
      shard_bytes_per_second: 1GiB'

# Scenario f's pipeline options. Not `host`: an added field hides the line's
# field of that name, and the key "{service}-{host}" would then have 7
# values, not 91 (7 services x 13 hosts), and be held to 7 shards' rates.
enriched='    add_fields: { cluster: bench, pod: "${HOSTNAME:-bench-pod}" }
    add_metadata: { node: hostname, file: source, at: ingest_time, id: record_id }
    encoding: json
    trailing_newline: true'

declare -A row
record_row() { row[$1]="$2"; }

# file_scenario NAME PARSER KEY(template|"") SPOOL SIZE GEN_FLAGS [PIPELINE_YAML]
file_scenario() {
  local name="$1" parser="$2" key="$3" spool="$4" size="$5" gen_flags="$6" extra="${7:-}"
  local key_line="" file="$work/in/lines-$size.log"
  [[ -n "$key" ]] && key_line="    partition_key: \"$key\""
  [[ -n "$extra" ]] && key_line+=$'\n'"$extra"
  mkdir -p "$work/in"
  if [[ ! -f "$file" ]]; then
    # shellcheck disable=SC2086
    "$generator" --out "$file" --lines "$lines" --size "$size" $gen_flags >/dev/null
  fi
  local bytes
  bytes=$(stat -c %s "$file")

  # Throughput.
  start_fake 16 unlimited
  write_config "$(file_input "$file" "$parser")" "$key_line" "$spool" "$unlimited_sink"
  local load_before
  load_before="$(load)"
  start_kinship
  local t0="$start"
  wait_accepted "$lines"
  local end cpu rss fake_cpu
  end=$(date +%s.%N)
  cpu=$(cpu_seconds "$kpid")
  rss=$(rss_mib "$kpid")
  # The fake shares the two cores: its CPU says how much of the wall time
  # went to the endpoint rather than to kinship.
  fake_cpu=$(cpu_seconds "$fake_pid")
  # Start-up against steady state: when the first records arrived, and the
  # rate between 10% and 90% of the lines.
  local progress
  progress="$(awk -v s="$t0" -v n="$lines" -v b="$bytes" '
    $2 > 0 && !first { first = $1 - s }
    $2 >= 0.1 * n && !t10 { t10 = $1; c10 = $2 }
    $2 >= 0.9 * n && !t90 { t90 = $1; c90 = $2 }
    END { if (t90 > t10) printf "first records after %.2f s; %.1f MB/s between 10%% and 90%% of the lines", first, (c90 - c10) * b / n / 1e6 / (t90 - t10) }' "$work/progress")"
  # CPU by thread, busiest first: where the CPU-s/GB go.
  local threads
  threads="$(for t in /proc/"$kpid"/task/*; do
      awk -v tk="$ticks" '{ sub(/^[^(]*\(/, ""); name = $0; sub(/\).*/, "", name); sub(/^[^)]*\) /, "");
        printf "%.2f %s\n", ($12 + $13) / tk, name }' "$t/stat"
    done | sort -rn | awk '$1 > 0 { printf "%s%s %.2f s", sep, $2, $1; sep = ", " }')"
  # Where the adaptive concurrency got to (it does not fall back when idle).
  local concurrency requests request_records
  concurrency=$(metric "$admin" kinship_sink_concurrency_limit)
  # How full the requests were: fewer, fuller requests cost less per GB.
  requests=$(metric "$admin" kinship_sink_request_records_count)
  local answer_ms
  answer_ms=$(curl -s "$admin/metrics" | awk '/^kinship_sink_request_duration_seconds_sum/ { s += $NF }
    /^kinship_sink_request_duration_seconds_count/ { n += $NF } END { if (n > 0) printf "%.1f", 1000 * s / n }')
  request_records=$(metric "$admin" kinship_sink_request_records_sum)
  stop_pid "$kpid"
  stop_pid "$fake_pid"

  # Latency at a steady rate, with kinship's default sink settings.
  local n=$((latency_rate * latency_seconds))
  mkdir -p "$work/live"
  rm -f "$work/live/"*
  : >"$work/live/app.log"  # exists before kinship starts, so it is watched from the first line
  start_fake 32 kinesis
  write_config "$(file_input "$work/live/*.log" "$parser")" "$key_line" "$spool" ""
  start_kinship
  # shellcheck disable=SC2086
  "$generator" --out "$work/live/app.log" --append --lines "$n" --size "$size" --rate "$latency_rate" $gen_flags \
    >"$work/generator.out"
  wait_accepted "$n"
  local stats lat_rss
  lat_rss=$(rss_mib "$kpid")
  stats="$(fake_curl "$fake_url/_fake/stats")"
  stop_pid "$kpid"
  stop_pid "$fake_pid"
  local lat throttled
  lat="$(sed -n 's/.*"latency":{\([^}]*\)}.*/\1/p' <<<"$stats")"
  throttled="$(sed -n 's/.*"recordsThrottled":\([0-9]*\).*/\1/p' <<<"$stats")"
  lat_field() { sed -n "s/.*\"$1\":\([0-9.]*\).*/\1/p" <<<"$lat"; }

  awk -v name="$name" -v l="$lines" -v b="$bytes" -v s="$t0" -v e="$end" -v cpu="$cpu" -v rss="$rss" \
    -v p50="$(lat_field p50Ms)" -v p99="$(lat_field p99Ms)" -v max="$(lat_field maxMs)" -v cnt="$(lat_field count)" \
    -v lrss="$lat_rss" -v thr="$throttled" -v gen="$(cat "$work/generator.out")" -v lb="$load_before" \
    -v fcpu="$fake_cpu" -v conc="$concurrency" -v reqs="$requests" -v rrec="$request_records" -v prog="$progress" -v threads="$threads" -v ams="$answer_ms" 'BEGIN {
    wall = e - s;
    printf "%s: %d lines, %.1f MB in %.2f s: %.0f lines/s, %.1f MB/s; CPU %.2f s = %.2f CPU-s/GB; peak RSS %.1f MiB\n",
      name, l, b / 1e6, wall, l / wall, b / 1e6 / wall, cpu, cpu / (b / 1e9), rss;
    printf "   the fake'"'"'s CPU meanwhile %.2f s; load average before %s; requests in flight reached %d; %d requests of %.0f records on average, answered in %s ms on average\n",
      fcpu, lb, conc, reqs, (reqs > 0 ? rrec / reqs : 0), ams;
    if (prog != "") printf "   %s\n", prog;
    if (threads != "") printf "   kinship'"'"'s threads: %s\n", threads;
    printf "   latency at a steady rate: %d records stamped, p50 %.1f ms, p99 %.1f ms, max %.1f ms; throttled %d; peak RSS %.1f MiB\n",
      cnt, p50, p99, max, thr, lrss;
    printf "   generator: %s\n", gen;
  }'
  record_row "$name" "$(awk -v l="$lines" -v b="$bytes" -v s="$t0" -v e="$end" -v cpu="$cpu" -v rss="$rss" \
    -v p50="$(lat_field p50Ms)" -v p99="$(lat_field p99Ms)" 'BEGIN {
    wall = e - s; printf "%.0f %.1f %.2f %.1f %.1f %.1f", l / wall, b / 1e6 / wall, cpu / (b / 1e9), rss, p50, p99 }')"
}

udp_scenario() {
  if [[ ! -x "$sender" ]]; then
    echo "c: skipped: sender not built ($sender; it comes with the socket-tests branch)"
    row[c]="skipped"
    return
  fi
  local n=$((udp_rate * udp_seconds))
  start_fake 16 unlimited
  write_config "$(printf '      - type: udp\n        listen: "127.0.0.1:0"\n        parser: json')" "" memory "$unlimited_sink"
  start_kinship
  local port=""
  for _ in $(seq 100); do
    port="$(sed -n 's/.*listening on port \([0-9]*\).*/\1/p' "$work/kinship.log")"
    [[ -n "$port" ]] && break
    sleep 0.02
  done
  [[ -n "$port" ]] || { cat "$work/kinship.log" >&2; die "no UDP port in kinship's log"; }
  local cpu_before summary
  cpu_before=$(cpu_seconds "$kpid")
  summary="$("$sender" --udp "127.0.0.1:$port" --count "$n" --rate "$udp_rate" --size "$line_bytes")"
  # Everything received is shipped: wait until the fake has it all.
  local received=-1 now
  for _ in $(seq 100); do
    sleep 0.1
    now=$(metric "$admin" kinship_input_records_total)
    [[ "$now" == "$received" ]] && break
    received=$now
  done
  wait_accepted "$received"
  local cpu rss sent seconds dropped reasons
  cpu=$(cpu_seconds "$kpid")
  rss=$(rss_mib "$kpid")
  sent="$(sed -n 's/.*"sent":\([0-9]*\).*/\1/p' <<<"$summary")"
  seconds="$(sed -n 's/.*"seconds":\([0-9.]*\).*/\1/p' <<<"$summary")"
  dropped=$(metric "$admin" kinship_input_dropped_total)
  reasons="$(curl -s "$admin/metrics" | awk '/^kinship_input_dropped_total\{/ && $NF > 0 {
    match($0, /reason="[^"]*"/); printf "%s%s=%d", sep, substr($0, RSTART + 8, RLENGTH - 9), $NF; sep = ", " }')"
  stop_pid "$kpid"
  stop_pid "$fake_pid"
  awk -v n="$sent" -v r="$received" -v d="$dropped" -v why="${reasons:-none}" -v s="$seconds" -v size="$line_bytes" \
    -v cpu="$cpu" -v cpu0="$cpu_before" -v rss="$rss" -v rate="$udp_rate" 'BEGIN {
    c = cpu - cpu0; gb = r * size / 1e9;
    printf "c: UDP %d datagrams of %d B offered at %d/s, sent in %.2f s: received %d (%.2f%%), dropped %d (%s), lost uncounted %d\n",
      n, size, rate, s, r, 100 * r / n, d, why, n - r - d;
    printf "   %.0f received/s, %.1f MB/s; CPU while sending and draining %.2f s = %.2f CPU-s/GB; peak RSS %.1f MiB\n",
      r / s, r * size / 1e6 / s, c, (gb > 0 ? c / gb : 0), rss;
  }'
  row[c]="$(awk -v n="$sent" -v r="$received" -v s="$seconds" -v size="$line_bytes" -v cpu="$cpu" -v cpu0="$cpu_before" \
    -v rss="$rss" 'BEGIN { gb = r * size / 1e9; printf "%.0f %.1f %.2f %.1f - -", r / s, r * size / 1e6 / s,
    (gb > 0 ? (cpu - cpu0) / gb : 0), rss }') received ${received}/${sent}"
}

# Scenario m: peak RSS with many small files tailed at once (issue 19).
many_files=1000 many_lines=20 many_bytes=205
# many_files_run DIR LINES: kinship tails DIR/*.log from the beginning until
# the fake has LINES lines; sets run_result to "PEAK_RSS_MIB SECONDS
# FILES_OPEN". (Not printed into a $(...): kinship and the fake must stay in
# this shell's pids, for cleanup to stop them whatever happens.)
many_files_run() {
  start_fake 16 unlimited
  write_config "$(file_input "$1/*.log" json)" '    partition_key: "{service}-{host}"' disk "$unlimited_sink"
  start_kinship
  local t0="$start"
  wait_accepted "$2"
  local end open rss
  end=$(date +%s.%N)
  open=$(metric "$admin" kinship_input_files_open || echo 0)
  rss=$(rss_mib "$kpid")
  stop_pid "$kpid"
  stop_pid "$fake_pid"
  run_result="$(awk -v r="$rss" -v s="$t0" -v e="$end" -v o="$open" 'BEGIN { printf "%s %.2f %d", r, e - s, o }')"
}

# many_files_median DIR LINES: many_files_run three times; sets run_result
# to the run with the median peak RSS, and run_peaks to the three peaks.
# (The peak moves by a few MiB from run to run with how many batches wait
# for the sink at once; the median steadies the cost per file.)
many_files_median() {
  local results=() i
  for i in 1 2 3; do
    many_files_run "$1" "$2"
    results+=("$run_result")
  done
  run_result="$(printf '%s\n' "${results[@]}" | sort -n -k1,1 | sed -n 2p)"
  run_peaks="$(printf '%s\n' "${results[@]}" | awk '{ printf "%s%s", sep, $1; sep = ", " }')"
}

# Each run with a fresh kinship and fake: 1,000 files of 20 lines, three
# times; 1 file of 20 lines, three times (the same batches, of one file's 20
# records each, and the same sink: what is left is the cost of the files);
# 1 file of all 20,000 lines, once (for comparison: the same data through
# one file, in bigger batches). Per file = (median peak with 1,000 - median
# peak with 1 of 20) / 999.
many_files_scenario() {
  local many="$work/many" one="$work/one" big="$work/big" i total=$((many_files * many_lines))
  rm -rf "$many" "$one" "$big"
  mkdir -p "$many" "$one" "$big"
  for ((i = 0; i < many_files; i++)); do
    "$generator" --out "$many/app-$i.log" --lines "$many_lines" --size "$many_bytes" \
      --first-seq $((i * many_lines)) >/dev/null
  done
  "$generator" --out "$one/app.log" --lines "$many_lines" --size "$many_bytes" >/dev/null
  "$generator" --out "$big/app.log" --lines "$total" --size "$many_bytes" >/dev/null
  local rn r1 rb pn p1
  many_files_median "$many" "$total"
  rn="$run_result" pn="$run_peaks"
  many_files_median "$one" "$many_lines"
  r1="$run_result" p1="$run_peaks"
  many_files_run "$big" "$total"
  rb="$run_result"
  awk -v n="$many_files" -v l="$many_lines" -v b="$many_bytes" -v rn="$rn" -v r1="$r1" -v rb="$rb" -v pn="$pn" \
    -v p1="$p1" 'BEGIN {
    split(rn, m, " "); split(r1, a, " "); split(rb, g, " ");
    printf "m: %d files of %d lines (%d B) under one glob: peak RSS %.1f MiB (median of %s; %d files open, all lines shipped in %.2f s)\n",
      n, l, b, m[1], pn, m[3], m[2];
    printf "   1 file of %d lines: peak RSS %.1f MiB (median of %s); per file: (%.1f - %.1f) / %d = %.1f KiB\n",
      l, a[1], p1, m[1], a[1], n - 1, (m[1] - a[1]) * 1024 / (n - 1);
    printf "   1 file of all %d lines: peak RSS %.1f MiB (shipped in %.2f s)\n", n * l, g[1], g[2];
  }'
  # The table's columns: lines/s and MB/s of the 1,000-file run (start-up
  # included), no CPU or latency; the cost per file after the target.
  record_row m "$(awk -v n="$many_files" -v l="$many_lines" -v b="$many_bytes" -v rn="$rn" -v r1="$r1" 'BEGIN {
    split(rn, m, " "); split(r1, a, " "); t = n * l;
    printf "%.0f %.1f - %.1f - - %.1f KiB per file", t / m[2], t * b / 1e6 / m[2], m[1], (m[1] - a[1]) * 1024 / (n - 1) }')"
}

echo "kinship bench: $("$kinship" --version 2>&1 | sed -n 1p), commit $(git -C "$repo" rev-parse --short HEAD 2>/dev/null || echo '?')$(
  git -C "$repo" diff --quiet HEAD 2>/dev/null || echo '+changes'), $(nproc) cores, load $(load), $(
  ((quick)) && echo quick || echo full) run; default linger $linger; protocol ${KINSHIP_BENCH_PROTOCOL:-cbor}"
for s in "${scenarios[@]}"; do
  case "$s" in
    u) tls=1 delay_ms=0 file_scenario u json "{service}-{host}" disk "$line_bytes" "" ;;
    v) tls=1 delay_ms=25 file_scenario v json "{service}-{host}" disk "$line_bytes" "" ;;
    w) tls=1 delay_ms=50 delay_rate=0.5 file_scenario w json "{service}-{host}" disk "$line_bytes" "" ;;
    a) file_scenario a json "{service}-{host}" memory "$line_bytes" "" ;;
    b) file_scenario b raw "" memory "$line_bytes" "" ;;
    c) udp_scenario ;;
    d) file_scenario d json "{service}-{host}" disk "$line_bytes" "" ;;
    e) file_scenario e json "" memory "$small_bytes" "--no-key-fields" ;;
    f) file_scenario f json "{service}-{host}" memory "$line_bytes" "" "$enriched" ;;
    m) many_files_scenario ;;
  esac
done

# The table, with the targets of issue 6 beside the figures (not asserted).
target() {
  local a_mbs=""
  [[ -n "${row[a]:-}" ]] && a_mbs="$(awk '{ print $2 }' <<<"${row[a]}")"
  case "$1" in
    a) awk -v r="${row[a]}" -v lg="$linger_ms" 'BEGIN { split(r, f, " ");
         printf "<=4 CPU-s/GB %s, >=250 MB/s %s, <=48 MiB %s, p99 <=%d ms %s",
           (f[3] <= 4 ? "ok" : "MISS"), (f[2] >= 250 ? "ok" : "MISS"), (f[4] <= 48 ? "ok" : "MISS"),
           lg + 50, (f[6] <= lg + 50 ? "ok" : "MISS") }' ;;
    d) if [[ -n "$a_mbs" ]]; then
         awk -v r="${row[d]}" -v a="$a_mbs" 'BEGIN { split(r, f, " ");
           printf ">=75%% of a'"'"'s MB/s: %.0f%% %s", 100 * f[2] / a, (f[2] >= 0.75 * a ? "ok" : "MISS") }'
       else echo ">=75% of a's MB/s (run a too)"; fi ;;
    c) echo "received + dropped = sent; drops counted" ;;
    f) if [[ -n "${row[a]:-}" ]]; then
         awk -v r="${row[f]}" -v a="${row[a]}" 'BEGIN { split(r, f, " "); split(a, g, " ");
           printf "CPU-s/GB %.0f%% of a'"'"'s (the cost of enrichment and json)", 100 * f[3] / g[3] }'
       else echo "run a too, to compare"; fi ;;
    e) echo "no KPL aggregation yet: one Kinesis record per line" ;;
    u) awk -v r="${row[u]}" 'BEGIN { split(r, f, " ");
         printf "<=3 CPU-s/GB %s, <=32 MiB %s (issue 19)", (f[3] <= 3 ? "ok" : "MISS"), (f[4] <= 32 ? "ok" : "MISS") }' ;;
    m) awk -v r="${row[m]}" 'BEGIN { split(r, f, " ");
         printf "<=48 MiB for 1,000 files %s (issue 19)", (f[4] <= 48 ? "ok" : "MISS") }' ;;
    v) if [[ -n "${row[u]:-}" ]]; then
         awk -v r="${row[v]}" -v u="${row[u]}" 'BEGIN { split(r, f, " "); split(u, g, " ");
           printf ">=90%% of u'"'"'s MB/s: %.0f%% %s (issue 17)", 100 * f[2] / g[2], (f[2] >= 0.9 * g[2] ? "ok" : "MISS") }'
       else echo ">=90% of u's MB/s (run u too)"; fi ;;
    w) if [[ -n "${row[v]:-}" ]]; then
         awk -v r="${row[w]}" -v v="${row[v]}" 'BEGIN { split(r, f, " "); split(v, g, " ");
           printf "%.0f%% of v'"'"'s MB/s", 100 * f[2] / g[2] }'
       else echo "compare with v (run v too)"; fi ;;
    *) echo "-" ;;
  esac
}
echo
echo "load average at the end: $(load)"
printf '%-8s| %10s | %7s | %8s | %12s | %7s | %7s | %s\n' scenario lines/s MB/s CPU-s/GB "peak RSS MiB" "p50 ms" "p99 ms" target
for s in "${scenarios[@]}"; do
  if [[ "${row[$s]:-}" == skipped ]]; then
    printf '%-8s| %s\n' "$s" "skipped: sender not built"
    continue
  fi
  read -r lps mbs cpg rss p50 p99 rest <<<"${row[$s]}"
  printf '%-8s| %10s | %7s | %8s | %12s | %7s | %7s | %s\n' "$s" "$lps" "$mbs" "$cpg" "$rss" "$p50" "$p99" \
    "$(target "$s")${rest:+ ($rest)}"
done
