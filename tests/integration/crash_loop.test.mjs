// A crash loop never multiplies data (issue 15): kinship ships a 200,000-line
// file to the fake Kinesis endpoint (answers after 60 ms, like Kinesis) and
// is killed with SIGKILL 5 times, the first two within a second of their
// start, the others 0.5–3 s after it, restarted at once each time; a last
// run ends with SIGTERM. Twice: into a fast stream (no limits, no pacing)
// and into a 4-shard stream that enforces Kinesis's per-shard limits, with
// kinship pacing each shard. The file input's checkpoint is saved on a
// timer (every second, past what the spool has fsynced, also every second),
// so many of these kills come before it; the spool's file positions are what keep a restart from reading the
// file again from its start. Then:
//  - every line is in the stream;
//  - just before each kill, the spool holds at most the file's lines (it
//    used to grow by the whole file at each restart: 5x after five), and
//    all that was shipped is the file plus a bounded number per kill;
//  - each kill's duplicates are at most what the sink had sent and not yet
//    seen answered: max_in_flight (4 here, set so the bound is tight; the
//    default is 64) requests of max_batch_records (500).
//    The spool records each record as done when its answer is processed,
//    before more requests go out, so nothing answered is sent again.
//
// Run by ctest with KINSHIP_BIN and KINSHIP_FAKE_BIN set.

import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';

import { freeTcpPort, makeTempDir, sleep, startDaemon, tailOf, waitFor } from '../support/daemon.mjs';
import { startFake } from '../support/fake_kinesis.mjs';
import { writeNumberedLines } from '../support/log_generator.mjs';
import { metric } from '../support/metrics.mjs';

const LINES = 200_000;
const KILLS = 5;
// The in-flight window: max_in_flight x max_batch_records (as configured below).
// Before record-level acknowledgements a kill re-sent whole 2,000-record
// frames: 2,300–4,400 per kill (with 1 MiB frames, 2,400–12,400).
const IN_FLIGHT_WINDOW = 4 * 500;

const cleanups = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
});

async function crashLoop(t, { name, limits, pacing }) {
  const dir = makeTempDir(`kinship-crash-loop-${name}-`);
  cleanups.push(() => fs.rmSync(dir, { recursive: true, force: true }));
  const recordLog = path.join(dir, 'accepted.jsonl');
  const fake = await startFake(['--stream', 'loop', '--shards', '4', ...limits, '--delay-ms', '60',
    '--record-log', recordLog, '--no-duplicates', '--max-stored-records', '0']);
  cleanups.push(() => fake.stop());
  fs.mkdirSync(path.join(dir, 'in'));
  writeNumberedLines(path.join(dir, 'in', 'app.log'), LINES, { padBytes: 42, seqWidth: 6 });
  const port = await freeTcpPort();
  const admin = `http://127.0.0.1:${port}`;
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
    partition_key: "{seq}"
    sink:
      type: kinesis
      stream: loop
      region: us-east-1
      endpoint: ${fake.url}
      pacing: ${pacing}
      max_in_flight: 4
admin:
  listen: 127.0.0.1:${port}
`);

  const accepted = async () => (await (await fetch(`${fake.url}/_fake/records?count=1`)).json()).accepted;
  const spooled = [];  // kinship_spool_records just before each kill
  const boundaries = [];  // accepted count once each killed run is over
  let stderrs = '';
  for (let run = 0; run <= KILLS; run++) {
    const daemon = startDaemon(['--config', config]);
    cleanups.push(() => daemon.kill());
    try {
      if (run < KILLS) {
        const lifeMs = run < 2 ? 300 + Math.random() * 600 : 500 + Math.random() * 2500;
        const started = Date.now();
        // The spool gauge, as late as possible before the kill.
        let last = NaN;
        while (Date.now() - started < lifeMs) {
          try {
            const v = await metric(admin, 'kinship_spool_records', { pipeline: 'app' });
            if (!Number.isNaN(v)) last = v;
          } catch {
            // not listening yet
          }
          await sleep(50);
        }
        if (daemon.status()) throw new Error(`kinship exited: ${tailOf(daemon.stderr())}`);
        await daemon.stop('SIGKILL', 10000);
        await sleep(300);  // answers to requests in flight at the kill
        spooled.push(last);
        boundaries.push(await accepted());
      } else {
        let lastCount = -1;
        let still = 0;
        await waitFor(async () => {
          const n = await accepted();
          still = n === lastCount ? still + 1 : 0;
          lastCount = n;
          return n >= LINES && still >= 20;
        }, { timeoutMs: 240000, intervalMs: 100, what: 'every line accepted' });
        const stopped = await daemon.stop('SIGTERM', 60000);
        assert.equal(stopped.code, 0, tailOf(daemon.stderr()));
      }
    } finally {
      stderrs += `--- run ${run}\n${daemon.stderr()}`;
    }
  }

  // Every copy of every line, by the run that shipped it.
  const copies = new Map();  // seq -> count
  let index = 0;
  const perKill = new Array(KILLS).fill(0);
  const runOf = (i) => boundaries.filter((b) => b <= i).length;
  const rl = readline.createInterface({ input: fs.createReadStream(recordLog) });
  for await (const line of rl) {
    const key = /"partitionKey":"(\d+)"/.exec(line)[1];
    const n = (copies.get(key) ?? 0) + 1;
    copies.set(key, n);
    if (n > 1) perKill[Math.min(runOf(index), KILLS) - 1 >= 0 ? Math.min(runOf(index), KILLS) - 1 : 0]++;
    index++;
  }
  const missing = [];
  for (let i = 0; i < LINES; i++) if (!copies.has(String(i).padStart(6, '0'))) missing.push(i);
  const resumedFromSpool = (stderrs.match(/after what the spool holds/g) ?? []).length;
  t.diagnostic(`${name}: ${index} records accepted for ${LINES} lines; accepted at the kills: ${boundaries.join(', ')}`);
  t.diagnostic(`${name}: spool records just before each kill: ${spooled.join(', ')}; duplicates after each kill: ${perKill.join(', ')}; restarts resumed from the spool: ${resumedFromSpool}`);
  if (missing.length) console.error(`# stderr (tail):\n${tailOf(stderrs, 120)}`);
  assert.deepEqual(missing.slice(0, 10), [], `${missing.length} lines never arrived`);
  for (const [i, n] of spooled.entries()) {
    assert.ok(Number.isNaN(n) || n <= LINES, `before kill ${i + 1} the spool held ${n} records for a ${LINES}-line file`);
  }
  // The gauge is published every 500 ms and the admin port opens after
  // start-up: a run killed early may give no reading, on a loaded machine
  // several. What was shipped in all bounds the multiplication anyway.
  assert.ok(spooled.some((n) => !Number.isNaN(n)), `the spool gauge was read before some kill: ${spooled}`);
  assert.ok(index <= LINES + KILLS * IN_FLIGHT_WINDOW,
    `${index} records accepted for ${LINES} lines: restarts multiplied them`);
  for (const [i, n] of perKill.entries()) {
    assert.ok(n <= IN_FLIGHT_WINDOW, `kill ${i + 1} caused ${n} duplicates (in-flight window ${IN_FLIGHT_WINDOW})`);
  }
}

test('kill -9 five times into a fast stream, twice within a second of the start: every line arrives, at most the in-flight window again per kill',
  { timeout: 600000 }, async (t) => {
    await crashLoop(t, { name: 'fast', limits: ['--records-per-second', '0', '--bytes-per-second', '0'], pacing: false });
  });

test('kill -9 five times into a 4-shard stream at Kinesis limits, paced: every line arrives, at most the in-flight window again per kill',
  { timeout: 600000 }, async (t) => {
    await crashLoop(t, { name: 'paced', limits: ['--records-per-second', '1000', '--bytes-per-second', '1048576'], pacing: true });
  });
