#!/usr/bin/env bash
# The demo: a local Kinesis (kinesalite) on 127.0.0.1:4567 with a 4-shard
# stream "demo", a log generator writing JSON lines to
# /tmp/kinship-demo/in/app.log, kinship shipping them (config/examples/demo.yaml),
# and a reader printing every record that arrives for 10 seconds:
#   shardId  partitionKey  data
# then the records per shard. Stops everything it started on exit.
# Exits 0 if records arrived.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"

port=4567
endpoint="http://127.0.0.1:$port"
work=/tmp/kinship-demo
seconds="${DEMO_SECONDS:-10}"

bash scripts/install.sh
bash scripts/build.sh release >"${TMPDIR:-/tmp}/kinship-demo-build.log" 2>&1 || {
  cat "${TMPDIR:-/tmp}/kinship-demo-build.log" >&2
  echo "demo.sh: build failed" >&2
  exit 1
}
echo "demo.sh: built build/kinship"

export NODE_PATH="$repo/.deps/node/node_modules${NODE_PATH:+:$NODE_PATH}"

pids=()
# Stops what it started, newest first (kinship, generator, kinesalite), so
# that kinship can flush to kinesalite before it goes away.
cleanup() {
  local i pid
  for ((i = ${#pids[@]} - 1; i >= 0; i--)); do
    pid="${pids[i]}"
    kill -TERM "$pid" 2>/dev/null || continue
    for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

rm -rf "$work"
mkdir -p "$work/in" "$work/state"

if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
  echo "demo.sh: port $port on 127.0.0.1 is busy (another kinesalite or demo running?)" >&2
  exit 1
fi

node tests/support/kinesalite_server.mjs --port "$port" >"$work/kinesalite.log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do
  grep -q 'listening' "$work/kinesalite.log" 2>/dev/null && break
  if ! kill -0 "${pids[0]}" 2>/dev/null; then
    cat "$work/kinesalite.log" >&2
    echo "demo.sh: kinesalite failed to start on port $port" >&2
    exit 1
  fi
  sleep 0.1
done
grep -q 'listening' "$work/kinesalite.log" || { echo "demo.sh: kinesalite did not start" >&2; exit 1; }
echo "demo.sh: $(cat "$work/kinesalite.log")"

node --input-type=module -e "
import { KinesisClient } from '$repo/tests/support/kinesis_client.mjs';
await new KinesisClient('$endpoint').createStream('demo', 4);
"
echo "demo.sh: created stream demo (4 shards)"

node tests/support/log_generator.mjs --file "$work/in/app.log" --rate 20 --seconds 0 \
  2>"$work/generator.log" &
pids+=($!)
echo "demo.sh: log generator writing ~20 lines/s to $work/in/app.log"

AWS_ACCESS_KEY_ID=demo AWS_SECRET_ACCESS_KEY=demo \
  build/kinship --config config/examples/demo.yaml 2>"$work/kinship.log" &
kinship_pid=$!
pids+=("$kinship_pid")
echo "demo.sh: kinship running (pid $kinship_pid, log $work/kinship.log); reading stream for $seconds s"
echo

rc=0
node tests/support/read_stream.mjs --endpoint "$endpoint" --stream demo --seconds "$seconds" \
  --min-records 1 || rc=$?

if ! kill -0 "$kinship_pid" 2>/dev/null; then
  echo "demo.sh: kinship exited early; last lines of $work/kinship.log:" >&2
  tail -n 40 "$work/kinship.log" >&2 || true
elif ((rc != 0)); then
  echo "demo.sh: last lines of $work/kinship.log:" >&2
  tail -n 20 "$work/kinship.log" >&2 || true
fi
if ((rc != 0)); then
  echo "demo.sh: no records arrived" >&2
  exit 1
fi
echo "demo.sh: records arrived; OK"
