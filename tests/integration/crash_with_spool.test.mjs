// Crash test of the disk spool (spool.mode: disk, the default): kinship ships
// 1,000,000 lines from a file to the project's fake Kinesis endpoint and is
// killed with SIGKILL at 5 random moments, restarted each time with the same
// data_dir; a last run ends with SIGTERM. Then:
//  - every line is in the stream;
//  - no line was accepted twice within one run of the daemon: duplicates come
//    only from the kills;
//  - every duplicate's first copy was accepted shortly before a kill (within
//    the checkpoint interval + fsync interval + slack): it was in flight —
//    handed to the sink, or read but not yet checkpointed — never something
//    delivered and recorded long before;
//  - no kill causes more duplicates than the sink's in-flight window
//    (max_in_flight x max_batch_records: 4 x 500, max_in_flight set below so
//    the bound is tight): what was answered before
//    the kill is recorded in the spool, record by record, and not sent again.
// Figures (duplicates per kill, the oldest duplicate's age) are printed.
//
// Run by ctest as `node crash_with_spool.test.mjs` with KINSHIP_BIN and
// KINSHIP_FAKE_BIN set.

import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';

import { makeTempDir, sleep, startDaemon, tailOf, waitFor } from '../support/daemon.mjs';
import { startFake } from '../support/fake_kinesis.mjs';
import { writeNumberedLines } from '../support/log_generator.mjs';

const LINES = 1_000_000;
const KILLS = 5;
const CHECKPOINT_INTERVAL_MS = 200;
const FSYNC_INTERVAL_MS = 1000;
// Sampling of the accepted count (100 ms), scheduling, a request's answer.
const SLACK_MS = 1500;
const IN_FLIGHT_WINDOW_MS = CHECKPOINT_INTERVAL_MS + FSYNC_INTERVAL_MS + SLACK_MS;
const IN_FLIGHT_RECORDS = 4 * 500;

const cleanups = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
});

test('kill -9 at 5 random moments while shipping 1,000,000 lines: every line arrives, duplicates only of records in flight', { timeout: 600000 }, async () => {
  const dir = makeTempDir('kinship-crash-');
  cleanups.push(() => fs.rmSync(dir, { recursive: true, force: true }));
  const recordLog = path.join(dir, 'accepted.jsonl');
  // 30 ms per answer keeps the run long enough (~15 s) to kill it mid-way.
  const fake = await startFake(['--stream', 'crash', '--shards', '4', '--records-per-second', '0',
    '--bytes-per-second', '0', '--delay-ms', '30', '--record-log', recordLog, '--no-duplicates',
    '--max-stored-records', '0']);
  cleanups.push(() => fake.stop());
  fs.mkdirSync(path.join(dir, 'in'));
  writeNumberedLines(path.join(dir, 'in', 'app.log'), LINES);
  const config = path.join(dir, 'kinship.yaml');
  fs.writeFileSync(config, `data_dir: ${dir}/state
shutdown_timeout: 30s
pipelines:
  app:
    inputs:
      - type: file
        paths: ["${dir}/in/*.log"]
        start_at: beginning
        parser: json
        checkpoint_interval: ${CHECKPOINT_INTERVAL_MS}ms
    partition_key: "{seq}"
    spool: { fsync: ${FSYNC_INTERVAL_MS}ms }
    sink:
      type: kinesis
      stream: crash
      region: us-east-1
      endpoint: ${fake.url}
      pacing: false
      max_in_flight: 4
admin:
  listen: ""
`);

  const accepted = async () => (await (await fetch(`${fake.url}/_fake/records?count=1`)).json()).accepted;
  // Kill points: random shares of the file, at least 5% apart.
  const targets = [];
  while (targets.length < KILLS) {
    const t = Math.floor(LINES * (0.08 + Math.random() * 0.84));
    if (targets.every((o) => Math.abs(o - t) > LINES * 0.05)) targets.push(t);
  }
  targets.sort((a, b) => a - b);

  const samples = [];  // [ms since start, accepted] every 100 ms
  const t0 = Date.now();
  const kills = [];  // {at: ms, boundary: accepted count when the run ended}
  let stderrs = '';
  for (let run = 0; run <= KILLS; run++) {
    const daemon = startDaemon(['--config', config]);
    cleanups.push(() => daemon.kill());
    try {
      if (run < KILLS) {
        await waitFor(async () => {
          const n = await accepted();
          samples.push([Date.now() - t0, n]);
          if (daemon.status()) throw new Error(`kinship exited: ${tailOf(daemon.stderr())}`);
          return n >= targets[run];
        }, { timeoutMs: 240000, intervalMs: 100, what: `${targets[run]} records accepted` });
        const at = Date.now() - t0;
        await daemon.stop('SIGKILL', 10000);
        await sleep(300);  // requests the fake was answering when the daemon died
        kills.push({ at, boundary: await accepted() });
      } else {
        // Done when every line is in and nothing more arrives for 2 s.
        let last = -1;
        let still = 0;
        await waitFor(async () => {
          const n = await accepted();
          samples.push([Date.now() - t0, n]);
          still = n === last ? still + 1 : 0;
          last = n;
          return n >= LINES && still >= 20;
        }, { timeoutMs: 240000, intervalMs: 100, what: 'every line accepted' });
        const stopped = await daemon.stop('SIGTERM', 60000);
        assert.equal(stopped.code, 0, tailOf(daemon.stderr()));
      }
    } finally {
      stderrs += `--- run ${run}\n${daemon.stderr()}`;
    }
  }

  // Which run accepted each record, and every copy of every seq.
  const boundaries = kills.map((k) => k.boundary);
  const copies = new Map();  // seq -> [index, ...]
  let index = 0;
  const rl = readline.createInterface({ input: fs.createReadStream(recordLog) });
  for await (const line of rl) {
    const key = /"partitionKey":"(\d+)"/.exec(line)[1];
    const list = copies.get(key);
    if (list) list.push(index); else copies.set(key, [index]);
    index++;
  }
  const runOf = (i) => boundaries.filter((b) => b <= i).length;
  const acceptedAt = (i) => {  // the first sample that shows record i accepted (ms since start)
    const s = samples.find(([, n]) => n > i);
    return s ? s[0] : Infinity;
  };

  const missing = [];
  for (let i = 0; i < LINES; i++) if (!copies.has(String(i))) missing.push(i);
  const perKill = new Array(KILLS).fill(0);
  const sameRun = [];
  let oldestAge = 0;
  const tooOld = [];
  for (const [seq, list] of copies) {
    if (list.length < 2) continue;
    for (let c = 1; c < list.length; c++) {
      const first = list[c - 1];
      const second = list[c];
      const kill = runOf(first);  // the kill that ended the run of the earlier copy
      if (runOf(second) === kill) {
        sameRun.push(seq);
        continue;
      }
      perKill[kill]++;
      const age = kills[kill].at - acceptedAt(first);
      oldestAge = Math.max(oldestAge, age);
      if (age > IN_FLIGHT_WINDOW_MS) tooOld.push({ seq, age, kill });
    }
  }
  const duplicates = perKill.reduce((a, b) => a + b, 0);
  console.log(`# ${index} records accepted for ${LINES} lines; kills at ${kills.map((k) => `${k.boundary} (${(k.at / 1000).toFixed(1)} s)`).join(', ')}`);
  console.log(`# duplicates per kill: ${perKill.join(', ')} (total ${duplicates}); oldest duplicate accepted ${oldestAge} ms before its kill (window ${IN_FLIGHT_WINDOW_MS} ms)`);
  if (missing.length || sameRun.length || tooOld.length) console.error(`# stderr (tail):\n${tailOf(stderrs, 120)}`);
  assert.equal(kills.length, KILLS);
  assert.deepEqual(missing.slice(0, 10), [], `${missing.length} lines never arrived`);
  assert.deepEqual(sameRun.slice(0, 10), [], `${sameRun.length} lines accepted twice within one run`);
  assert.deepEqual(tooOld.slice(0, 10), [], `${tooOld.length} duplicates of records accepted long before their kill`);
  assert.equal(index, LINES + duplicates);
  for (const [i, n] of perKill.entries()) {
    assert.ok(n <= IN_FLIGHT_RECORDS, `kill ${i + 1} caused ${n} duplicates (in-flight window ${IN_FLIGHT_RECORDS})`);
  }
});
