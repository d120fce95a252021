// A file rotated to a name the glob does not match while it is half read,
// then kill -9 (issue 15): kinship tails app.log (the glob matches app.log
// only) with the disk spool into a slow fake Kinesis. A small spool and
// queue keep the input from reading ahead, so when app.log is renamed to
// app.log.1 and a new app.log is written, app.log.1 is provably half read
// (lag bytes on the input, lines still missing at the fake). kinship is
// killed with SIGKILL and restarted:
//  - at once: app.log.1 is found again in its directory by device and
//    inode and read on from its position;
//  - with the log directory absent at the restart and back a moment later
//    (a volume mounted late): the first scan finds nothing, and a later one
//    must still resume both files from their positions.
// Either way every line of both files arrives; duplicates are allowed,
// counted and printed.
//
// Run by ctest with KINSHIP_BIN and KINSHIP_FAKE_BIN set.

import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';

import { freeTcpPort, makeTempDir, sleep, startDaemon, tailOf, waitFor } from '../support/daemon.mjs';
import { startFake } from '../support/fake_kinesis.mjs';
import { metric } from '../support/metrics.mjs';

const OLD_LINES = 60_000;  // app.log before the rotation, app.log.1 after it
const NEW_LINES = 5_000;   // the new app.log

const cleanups = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
});

// Lines whose "seq" (the partition key) is `prefix` + a zero-padded number.
function writeLines(file, prefix, count) {
  const fd = fs.openSync(file, 'w');
  const pad = 'x'.repeat(40);
  for (let from = 0; from < count; from += 10000) {
    let chunk = '';
    for (let i = from; i < Math.min(count, from + 10000); i++) {
      chunk += `{"seq":"${prefix}${String(i).padStart(6, '0')}","service":"checkout","msg":"${pad}"}\n`;
    }
    fs.writeSync(fd, chunk);
  }
  fs.closeSync(fd);
}

async function scenario(t, { directoryReturnsLate }) {
  const dir = makeTempDir('kinship-crash-rotated-');
  cleanups.push(() => fs.rmSync(dir, { recursive: true, force: true }));
  const recordLog = path.join(dir, 'accepted.jsonl');
  // Slow answers and a 2 MiB spool: the input stays far behind the file.
  const fake = await startFake(['--stream', 'rotated', '--shards', '2', '--records-per-second', '0',
    '--bytes-per-second', '0', '--delay-ms', '300', '--record-log', recordLog, '--max-stored-records', '0']);
  cleanups.push(() => fake.stop());
  const logs = path.join(dir, 'in');
  fs.mkdirSync(logs);
  writeLines(path.join(logs, 'app.log'), 'a', OLD_LINES);
  const port = await freeTcpPort();
  const admin = `http://127.0.0.1:${port}`;
  const config = path.join(dir, 'kinship.yaml');
  fs.writeFileSync(config, `data_dir: ${dir}/state
shutdown_timeout: 30s
pipelines:
  app:
    inputs:
      - type: file
        paths: ["${logs}/app.log"]
        start_at: beginning
        poll_interval: 200ms
        parser: json
    partition_key: "{seq}"
    queue_size: 64KiB
    spool: { max_size: 2MiB, segment_size: 1MiB }
    sink:
      type: kinesis
      stream: rotated
      region: us-east-1
      endpoint: ${fake.url}
      pacing: false
admin:
  listen: 127.0.0.1:${port}
`);
  const accepted = async () => (await (await fetch(`${fake.url}/_fake/records?count=1`)).json()).accepted;
  const lagBytes = () => metric(admin, 'kinship_input_file_lag_bytes', { pipeline: 'app' });

  let stderrs = '';
  const first = startDaemon(['--config', config]);
  cleanups.push(() => first.kill());
  let lagAtKill;
  let acceptedAtKill;
  try {
    // Reading, and held back by the full spool.
    await waitFor(async () => {
      if (first.status()) throw new Error(`kinship exited: ${tailOf(first.stderr())}`);
      try {
        return (await accepted()) > 0 && (await lagBytes()) > 0;
      } catch {
        return false;  // admin not listening yet
      }
    }, { timeoutMs: 20000, what: 'kinship shipping app.log, behind its end' });
    fs.renameSync(path.join(logs, 'app.log'), path.join(logs, 'app.log.1'));
    writeLines(path.join(logs, 'app.log'), 'b', NEW_LINES);
    await sleep(700);  // a few polls: the rename is seen, app.log.1 drains
    lagAtKill = await lagBytes();
    acceptedAtKill = await accepted();
    await first.stop('SIGKILL', 10000);
  } finally {
    stderrs += `--- first run\n${first.stderr()}`;
  }
  // Provably half read: the input had not reached the end of app.log.1 (the
  // lag counts only the files it follows; the new app.log waits for it).
  assert.ok(lagAtKill > 0, `the input was behind at the kill (lag ${lagAtKill} bytes)`);
  assert.ok(acceptedAtKill < OLD_LINES, `only part of app.log.1 was delivered at the kill (${acceptedAtKill})`);

  if (directoryReturnsLate) fs.renameSync(logs, `${logs}.unmounted`);
  const second = startDaemon(['--config', config]);
  cleanups.push(() => second.kill());
  try {
    if (directoryReturnsLate) {
      await waitFor(() => /admin endpoint listening/.test(second.stderr()), { timeoutMs: 15000, what: 'start-up' });
      await sleep(600);  // a few polls find nothing
      fs.renameSync(`${logs}.unmounted`, logs);
    }
    let lastCount = -1;
    let still = 0;
    await waitFor(async () => {
      if (second.status()) throw new Error(`kinship exited: ${tailOf(second.stderr())}`);
      const n = await accepted();
      still = n === lastCount ? still + 1 : 0;
      lastCount = n;
      return n >= OLD_LINES + NEW_LINES && still >= 15;
    }, { timeoutMs: 180000, intervalMs: 100, what: 'every line accepted' }).catch(() => {});
    const stopped = await second.stop('SIGTERM', 60000);
    assert.equal(stopped.code, 0, tailOf(second.stderr()));
  } finally {
    stderrs += `--- second run\n${second.stderr()}`;
  }

  const copies = new Map();  // seq -> count
  let total = 0;
  const rl = readline.createInterface({ input: fs.createReadStream(recordLog) });
  for await (const line of rl) {
    const key = /"partitionKey":"([ab]\d+)"/.exec(line)[1];
    copies.set(key, (copies.get(key) ?? 0) + 1);
    total++;
  }
  const missing = { a: [], b: [] };
  for (const [prefix, count] of [['a', OLD_LINES], ['b', NEW_LINES]]) {
    for (let i = 0; i < count; i++) if (!copies.has(prefix + String(i).padStart(6, '0'))) missing[prefix].push(i);
  }
  const duplicates = total - copies.size;
  t.diagnostic(`at the kill: ${acceptedAtKill} accepted, input lag ${lagAtKill} bytes; after the restart: ` +
    `${total} records accepted for ${OLD_LINES + NEW_LINES} lines, ${duplicates} duplicates`);
  if (missing.a.length || missing.b.length) console.error(`# stderr (tail):\n${tailOf(stderrs, 80)}`);
  assert.deepEqual(missing.a.slice(0, 10), [], `${missing.a.length} lines of app.log.1 never arrived`);
  assert.deepEqual(missing.b.slice(0, 10), [], `${missing.b.length} lines of the new app.log never arrived`);
}

test('kill -9 while a file rotated to a name the glob does not match is half read: every line arrives after a restart',
  { timeout: 300000 }, (t) => scenario(t, { directoryReturnsLate: false }));

test('the same with the log directory back only after the restart: a later scan resumes both files',
  { timeout: 300000 }, (t) => scenario(t, { directoryReturnsLate: true }));
