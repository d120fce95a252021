// Acceptance test for file checkpoints: kinship is stopped in the middle of
// shipping a file and started again with the same config and data_dir.
//  (a) SIGTERM: the sink drains, the final checkpoint is written after it,
//      and the restart resumes exactly there: every line exactly once.
//  (b) SIGKILL: the restart resumes from the last checkpoint saved: every
//      line at least once; the duplicates (printed) are bounded by what was
//      acknowledged but not yet checkpointed.
// start_at is `beginning`, so a restart that ignored the checkpoints would
// ship the whole file again and fail both tests.
// These cases run with `spool: {mode: memory}`, where checkpoints follow
// Kinesis's acknowledgements; crash_with_spool.test.mjs covers disk mode.
//
// Run by ctest as `node restart.test.mjs` with KINSHIP_BIN and NODE_PATH
// set; by hand: KINSHIP_BIN=build/kinship node tests/integration/restart.test.mjs

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';

import { startKinesalite } from '../support/kinesalite_server.mjs';
import { KinesisClient } from '../support/kinesis_client.mjs';
import { generateLines } from '../support/log_generator.mjs';
import { makeTempDir, sample, sleep, startDaemon, tailOf } from '../support/daemon.mjs';

const LINES = 20000;
const HALF = LINES / 2;
const DELIVERY_TIMEOUT_MS = 180000;
const STARTUP_TIMEOUT_MS = 15000;
// Lines acknowledged after the last checkpoint save may be sent again after
// kill -9: at most one checkpoint interval's worth plus what was in flight.
const MAX_DUPLICATES_AFTER_KILL = 5000;

let kinesalite;
let kc;
const daemons = [];
let tmp;
let failed = false;

before(async () => {
  tmp = makeTempDir('kinship-restart-');
  kinesalite = await startKinesalite({ port: 0 });
  kc = new KinesisClient(kinesalite.endpoint);
});

after(async () => {
  for (const d of daemons) await d.kill();
  if (kinesalite) await kinesalite.close();
  if (tmp) {
    if (failed) console.error(`# kept ${tmp} for inspection`);
    else fs.rmSync(tmp, { recursive: true, force: true });
  }
});

// A case's own directory, stream, file and config.
async function setUp(name) {
  const dir = path.join(tmp, name);
  const inDir = path.join(dir, 'in');
  fs.mkdirSync(inDir, { recursive: true });
  const stream = `kinship-restart-${name}`;
  await kc.createStream(stream, 2);
  const configPath = path.join(dir, 'kinship.yaml');
  fs.writeFileSync(configPath, [
    `data_dir: ${JSON.stringify(path.join(dir, 'state'))}`,
    // Long enough for the sink to deliver everything it holds on SIGTERM.
    'shutdown_timeout: 60s',
    'pipelines:',
    '  app:',
    '    inputs:',
    '      - type: file',
    `        paths: [${JSON.stringify(path.join(inDir, '*.log'))}]`,
    '        start_at: beginning',
    '        parser: json',
    '        checkpoint_interval: 200ms',
    // Small reads make small batches (a read pass submits what it read), so
    // checkpoints advance in small steps and the sink cannot take the whole
    // file before the stop.
    '        read_buffer_size: 4KiB',
    '    partition_key: "{service}-{host}"',
    // A small queue keeps most of the file unread while the sink works, so
    // the stop really lands in the middle of the file.
    '    queue_size: 64KiB',
    '    spool: {mode: memory}',
    '    sink:',
    '      type: kinesis',
    `      stream: ${stream}`,
    '      region: us-east-1',
    `      endpoint: ${JSON.stringify(kinesalite.endpoint)}`,
    'admin:',
    '  listen: "127.0.0.1:0"',
    '',
  ].join('\n'));
  const lines = generateLines(LINES, { runId: `${path.basename(tmp)}-${name}` });
  // Each line's byte offset in the file, to compare with checkpoints.
  let offset = 0;
  for (const l of lines) {
    l.offset = offset;
    offset += Buffer.byteLength(l.line) + 1;
  }
  fs.writeFileSync(path.join(inDir, 'app.log'), lines.map((l) => l.line + '\n').join(''));
  return { dir, stream, configPath, lines, checkpointFile: path.join(dir, 'state', 'checkpoints', 'app.file_0.json') };
}

async function start(configPath) {
  const d = startDaemon(['--config', configPath]);
  daemons.push(d);
  const deadline = Date.now() + STARTUP_TIMEOUT_MS;
  for (;;) {
    // "running" is logged once every input has started (and logged where
    // each file starts).
    const m = /admin endpoint listening on (http:\/\/[0-9.]+:\d+)/.exec(d.stderr());
    if (m && /info  daemon: kinship \S+ running/.test(d.stderr())) return { daemon: d, admin: m[1] };
    if (d.status()) assert.fail(`kinship exited at start-up: ${JSON.stringify(d.status())}\n${tailOf(d.stderr())}`);
    if (Date.now() > deadline) assert.fail(`kinship did not report its admin endpoint:\n${tailOf(d.stderr())}`);
    await sleep(50);
  }
}

async function metric(admin, name) {
  const res = await fetch(`${admin}/metrics`);
  const text = await res.text();
  let sum = 0;
  for (const line of text.split('\n')) {
    if (line.startsWith(name + '{') || line.startsWith(name + ' ')) sum += Number(line.split(' ').pop());
  }
  return sum;
}

// Waits until the sink has sent at least `count` records.
async function waitForSent({ daemon, admin }, count) {
  const deadline = Date.now() + DELIVERY_TIMEOUT_MS;
  for (;;) {
    const sent = await metric(admin, 'kinship_sink_records_sent_total');
    if (sent >= count) return sent;
    if (daemon.status()) assert.fail(`kinship exited early after ${sent} records:\n${tailOf(daemon.stderr())}`);
    if (Date.now() > deadline) assert.fail(`only ${sent} records sent in ${DELIVERY_TIMEOUT_MS} ms`);
    await sleep(20);
  }
}

// Reads the stream until every line arrived (or time is up), then once more
// after a pause so late duplicates show too; counts each line.
async function collect(stream, lines, daemon) {
  const byLine = new Set(lines.map((l) => l.line));
  const deadline = Date.now() + DELIVERY_TIMEOUT_MS;
  let records = [];
  for (;;) {
    records = await kc.readAll(stream);
    const distinct = new Set(records.map((r) => r.data.toString('utf8')));
    if (distinct.size >= LINES) break;
    if (daemon.status()) assert.fail(`kinship exited early:\n${tailOf(daemon.stderr())}`);
    if (Date.now() > deadline) break;
    await sleep(1000);
  }
  await sleep(1500);
  records = await kc.readAll(stream);
  const seen = new Map();
  const unknown = [];
  for (const r of records) {
    const text = r.data.toString('utf8');
    if (!byLine.has(text)) unknown.push(text.slice(0, 120));
    else seen.set(text, (seen.get(text) ?? 0) + 1);
  }
  const missing = lines.filter((l) => !seen.has(l.line)).map((l) => l.seq);
  let duplicates = 0;
  const duplicated = [];
  for (const l of lines) {
    const n = seen.get(l.line) ?? 0;
    if (n > 1) {
      duplicates += n - 1;
      duplicated.push({ seq: l.seq, n });
    }
  }
  return { records, unknown, missing, duplicates, duplicated };
}

test('SIGTERM in the middle, restart: every line exactly once', { timeout: 400000 }, async (t) => {
  let first;
  let second;
  try {
    const c = await setUp('sigterm');
    first = await start(c.configPath);
    const sentAtStop = await waitForSent(first, HALF);
    const stopped = await first.daemon.stop('SIGTERM', 90000);
    assert.equal(stopped.timedOut, false, 'kinship did not exit after SIGTERM');
    assert.equal(stopped.code, 0, `exit code after SIGTERM:\n${tailOf(first.daemon.stderr())}`);
    const saved = JSON.parse(fs.readFileSync(c.checkpointFile, 'utf8'));
    const fileSize = fs.statSync(path.join(c.dir, 'in', 'app.log')).size;
    t.diagnostic(`stopped after ${sentAtStop} records sent; checkpoint at ${saved.files[0]?.offset} of ${fileSize} bytes`);
    assert.equal(saved.files.length, 1);
    assert.ok(saved.files[0].offset > 0 && saved.files[0].offset < fileSize,
      `the stop should land in the middle of the file (checkpoint ${saved.files[0].offset} of ${fileSize})`);

    second = await start(c.configPath);
    assert.match(second.daemon.stderr(), new RegExp(`following .*app\\.log from offset ${saved.files[0].offset}\\b`));
    const r = await collect(c.stream, c.lines, second.daemon);
    t.diagnostic(`${r.records.length} records read for ${LINES} lines; ${r.duplicates} duplicates after SIGTERM`);
    if (r.missing.length || r.unknown.length || r.duplicates) failed = true;
    assert.deepEqual(r.unknown, [], `records that are not lines we wrote: ${sample(r.unknown)}`);
    assert.equal(r.missing.length, 0, `${r.missing.length} lines never arrived, e.g. seq ${sample(r.missing)}`);
    assert.equal(r.duplicates, 0, `lines delivered more than once after SIGTERM: ${sample(r.duplicated)}`);
    assert.equal(r.records.length, LINES);

    const writes = await metric(second.admin, 'kinship_input_checkpoint_writes_total');
    const errors = await metric(second.admin, 'kinship_input_checkpoint_errors_total');
    assert.ok(writes > 0, 'checkpoints are written');
    assert.equal(errors, 0, 'no checkpoint errors');
    const end = await second.daemon.stop('SIGTERM', 90000);
    assert.equal(end.code, 0);
    const final = JSON.parse(fs.readFileSync(c.checkpointFile, 'utf8'));
    assert.equal(final.files[0].offset, fileSize, 'the final checkpoint covers the whole file');
  } catch (e) {
    failed = true;
    if (first) console.error(`# first run stderr (tail):\n${tailOf(first.daemon.stderr())}`);
    if (second) console.error(`# second run stderr (tail):\n${tailOf(second.daemon.stderr())}`);
    throw e;
  }
});

test('SIGKILL in the middle, restart: every line at least once, few duplicates', { timeout: 400000 }, async (t) => {
  let first;
  let second;
  try {
    const c = await setUp('sigkill');
    first = await start(c.configPath);
    const sentAtKill = await waitForSent(first, HALF);
    const killed = await first.daemon.stop('SIGKILL', 10000);
    assert.equal(killed.signal, 'SIGKILL');
    const saved = JSON.parse(fs.readFileSync(c.checkpointFile, 'utf8'));
    const checkpoint = saved.files[0]?.offset ?? 0;
    t.diagnostic(`killed after ${sentAtKill} records sent; last checkpoint at offset ${checkpoint}`);

    // What the killed run delivered: every line before the checkpoint (it
    // was acknowledged), and some after it (acknowledged or in flight, not
    // yet checkpointed): exactly those are sent again.
    const delivered = new Set((await kc.readAll(c.stream)).map((r) => r.data.toString('utf8')));
    const lostBeforeCheckpoint = c.lines.filter((l) => l.offset < checkpoint && !delivered.has(l.line));
    assert.deepEqual(lostBeforeCheckpoint.map((l) => l.seq), [], 'checkpointed lines were all delivered');
    const notCheckpointed = c.lines.filter((l) => l.offset >= checkpoint && delivered.has(l.line)).length;

    second = await start(c.configPath);
    assert.match(second.daemon.stderr(), new RegExp(`following .*app\\.log from offset ${checkpoint}\\b`));
    const r = await collect(c.stream, c.lines, second.daemon);
    t.diagnostic(`${r.records.length} records read for ${LINES} lines; ${r.duplicates} duplicates after SIGKILL`);
    console.log(`# duplicates after SIGKILL: ${r.duplicates} (delivered but not checkpointed at the kill: ` +
      `${notCheckpointed}; bound ${MAX_DUPLICATES_AFTER_KILL})`);
    assert.ok(r.duplicates <= notCheckpointed,
      `${r.duplicates} duplicates, but only ${notCheckpointed} lines were delivered and not checkpointed`);
    if (r.missing.length || r.unknown.length || r.duplicates > MAX_DUPLICATES_AFTER_KILL) failed = true;
    assert.deepEqual(r.unknown, [], `records that are not lines we wrote: ${sample(r.unknown)}`);
    assert.equal(r.missing.length, 0, `${r.missing.length} lines never arrived, e.g. seq ${sample(r.missing)}`);
    assert.ok(r.duplicates < HALF, `a restart that ignored checkpoints would repeat about ${HALF} lines`);
    assert.ok(r.duplicates <= MAX_DUPLICATES_AFTER_KILL,
      `${r.duplicates} duplicates after SIGKILL, more than ${MAX_DUPLICATES_AFTER_KILL}: ${sample(r.duplicated)}`);
    await second.daemon.stop('SIGTERM', 90000);
  } catch (e) {
    failed = true;
    if (first) console.error(`# first run stderr (tail):\n${tailOf(first.daemon.stderr())}`);
    if (second) console.error(`# second run stderr (tail):\n${tailOf(second.daemon.stderr())}`);
    throw e;
  }
});

test('a corrupt checkpoint file is ignored; an unusable data_dir stops the start', { timeout: 120000 }, async () => {
  let d;
  try {
    const c = await setUp('corrupt');
    fs.mkdirSync(path.dirname(c.checkpointFile), { recursive: true });
    fs.writeFileSync(c.checkpointFile, '{"version":1,"files":[{"path":');
    d = await start(c.configPath);
    assert.match(d.daemon.stderr(), /ignoring the checkpoints of input file_0: .*app\.file_0\.json/);
    assert.match(d.daemon.stderr(), /following .*app\.log from offset 0\b/, 'start_at: beginning applies');
    assert.equal(await metric(d.admin, 'kinship_input_checkpoint_errors_total'), 1);
    const stopped = await d.daemon.stop('SIGTERM', 90000);
    assert.equal(stopped.code, 0);
    // The next save replaced the corrupt file with a valid one.
    const saved = JSON.parse(fs.readFileSync(c.checkpointFile, 'utf8'));
    assert.equal(saved.files.length, 1);

    // data_dir below a regular file cannot be created, even by root.
    const blocker = path.join(c.dir, 'not-a-dir');
    fs.writeFileSync(blocker, '');
    const badConfig = path.join(c.dir, 'bad.yaml');
    fs.writeFileSync(badConfig, fs.readFileSync(c.configPath, 'utf8')
      .replace(/^data_dir: .*$/m, `data_dir: ${JSON.stringify(path.join(blocker, 'state'))}`));
    const bad = startDaemon(['--config', badConfig]);
    daemons.push(bad);
    const r = await Promise.race([bad.exited, sleep(15000).then(() => null)]);
    assert.ok(r, 'kinship kept running with an unusable data_dir');
    assert.equal(r.code, 1, bad.stderr());
    // The spool (opened first in disk mode) or the checkpoint directory,
    // whichever is created first, names the path.
    assert.match(bad.stderr(), new RegExp(`${path.join(blocker, 'state').replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}/(checkpoints|spool)`));
  } catch (e) {
    failed = true;
    if (d) console.error(`# stderr (tail):\n${tailOf(d.daemon.stderr())}`);
    throw e;
  }
});
