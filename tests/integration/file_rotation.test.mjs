// The file input follows log rotation through the real daemon, into
// kinesalite:
//  - rename + create: app.log is renamed to app.log.1 (older files shifted,
//    at most 3 kept) and a new app.log created, 5 times while 50,000 lines are
//    written: every line arrives exactly once and in order. The pattern names
//    app.log only, so a renamed file is read to its end through the open
//    descriptor (a burst written just before each rename is still unread).
//    The writer waits after each rotation until the daemon has read the old
//    file, because of a bug the next case shows:
//  - rename while the daemon lags: when the rotated file
//    and its replacement both hold unread lines, the rotated one must be read
//    first; today the one with the lower inode is.
//  - copytruncate: app.log is copied to app.log.1 and truncated to zero, 5
//    times, while the writer keeps its O_APPEND descriptor: every line arrives
//    exactly once.
//  - a symlinked path (Kubernetes /var/log/containers style) whose target is
//    switched to a new file: the lines of both targets arrive.
//
// One key ("{f}") means one shard, and max_in_flight: 1 keeps the stream in
// the order of sending, so the stream's order is the order the daemon read.
//
// Run by ctest as `node file_rotation.test.mjs` with KINSHIP_BIN and
// NODE_PATH set; by hand: KINSHIP_BIN=build/kinship node tests/integration/file_rotation.test.mjs

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';

import { startKinesalite } from '../support/kinesalite_server.mjs';
import { KinesisClient } from '../support/kinesis_client.mjs';
import { makeTempDir, sample, sleep, startDaemon, tailOf, waitFor } from '../support/daemon.mjs';

const LINES = 50000;
const ROTATIONS = 5;
const KEEP_ROTATED = 3;
const LINES_PER_WRITE = 100;
const BURST_LINES = 2000;
// Line counts after which the file is rotated (multiples of LINES_PER_WRITE).
const ROTATE_AT = Array.from({ length: ROTATIONS },
  (_, k) => Math.round(((k + 1) * LINES) / (ROTATIONS + 1) / LINES_PER_WRITE) * LINES_PER_WRITE);

let kinesalite;
let kc;
let tmp;
let failed = false;
const daemons = [];

before(async () => {
  tmp = makeTempDir('kinship-rot-');
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

// A JSON line of about 120 bytes.
function line(seq) {
  return JSON.stringify({ f: 'app', seq, msg: `line ${seq} of the rotation test`, pad: 'x'.repeat(40) });
}

/** Lines from..to-1, each with its newline. */
function linesText(from, to) {
  let text = '';
  for (let i = from; i < to; i++) text += line(i) + '\n';
  return text;
}

/**
 * Starts kinship on one file pattern, shipping to `stream` (created here
 * with one shard). Returns {daemon, admin (base URL), stderrLines(re)}.
 */
async function startPipeline(name, pattern, stream) {
  await kc.createStream(stream, 1);
  const configPath = path.join(tmp, `${name}.yaml`);
  fs.writeFileSync(configPath, [
    `data_dir: ${JSON.stringify(path.join(tmp, `state-${name}`))}`,
    'pipelines:',
    `  ${name}:`,
    '    inputs:',
    '      - type: file',
    `        paths: [${JSON.stringify(pattern)}]`,
    '        start_at: beginning',
    '        parser: json',
    '    partition_key: "{f}"',
    '    sink:',
    '      type: kinesis',
    `      stream: ${stream}`,
    '      region: us-east-1',
    `      endpoint: ${JSON.stringify(kinesalite.endpoint)}`,
    '      max_in_flight: 1',
    '      linger: 20ms',
    // kinesalite has no throughput limits; pacing would hold one shard to 950 records/s.
    '      pacing: false',
    'admin:',
    '  listen: "127.0.0.1:0"',
    '',
  ].join('\n'));
  const daemon = startDaemon(['--config', configPath]);
  daemons.push(daemon);
  // Every stderr line, whole, for waiting on log events.
  const logLines = [];
  let partial = '';
  daemon.proc.stderr.on('data', (chunk) => {
    const parts = (partial + chunk.toString('utf8')).split('\n');
    partial = parts.pop();
    logLines.push(...parts);
  });
  const admin = await waitFor(() => {
    if (daemon.status()) throw new Error(`kinship exited at start-up:\n${tailOf(daemon.stderr())}`);
    return daemon.stderr().match(/admin endpoint listening on (http:\/\/[0-9.:]+)/)?.[1];
  }, { timeoutMs: 10000, intervalMs: 20, what: 'the admin endpoint' });
  return {
    daemon,
    admin,
    countLog: (re) => logLines.filter((l) => re.test(l)).length,
  };
}

/** The value of one metric series (labels given as a subset), or 0. */
async function metric(admin, name, labels = {}) {
  const text = await (await fetch(`${admin}/metrics`)).text();
  let total = 0;
  for (const l of text.split('\n')) {
    if (!l.startsWith(name)) continue;
    const m = l.match(/^([a-z_]+)(\{[^}]*\})?\s+(\S+)$/);
    if (!m || m[1] !== name) continue;
    const labelText = m[2] ?? '';
    if (Object.entries(labels).every(([k, v]) => labelText.includes(`${k}="${v}"`))) total += Number(m[3]);
  }
  return total;
}

/** Waits until the sink has sent `count` records (bounded), then reads the stream. */
async function deliveredRecords(p, stream, count, timeoutMs) {
  await waitFor(async () => {
    if (p.daemon.status()) throw new Error(`kinship exited: ${JSON.stringify(p.daemon.status())}`);
    return (await metric(p.admin, 'kinship_sink_records_sent_total')) >= count;
  }, { timeoutMs, intervalMs: 100, what: `${count} records sent to ${stream}` }).catch(async (e) => {
    const sent = await metric(p.admin, 'kinship_sink_records_sent_total').catch(() => '?');
    const read = await metric(p.admin, 'kinship_input_records_total').catch(() => '?');
    throw new Error(`${e.message} (input read ${read}, sink sent ${sent})\n${tailOf(p.daemon.stderr())}`);
  });
  // A moment more, so that late duplicates would show up too.
  await sleep(300);
  return kc.readAll(stream, { limit: 10000 });
}

/** Checks records (in stream order) against seqs 0..count-1; returns the seqs. */
function checkExactlyOnce(records, count) {
  const seqs = [];
  const unknown = [];
  for (const r of records) {
    let obj;
    try {
      obj = JSON.parse(r.data.toString('utf8'));
    } catch {
      obj = undefined;
    }
    if (!obj || obj.f !== 'app' || !Number.isInteger(obj.seq) || r.data.toString('utf8') !== line(obj.seq)) {
      unknown.push(r.data.toString('utf8').slice(0, 100));
      continue;
    }
    seqs.push(obj.seq);
  }
  const times = new Map();
  for (const s of seqs) times.set(s, (times.get(s) ?? 0) + 1);
  const missing = [];
  for (let s = 0; s < count; s++) if (!times.has(s)) missing.push(s);
  const duplicated = [...times].filter(([, n]) => n > 1).map(([s, n]) => ({ seq: s, n }));
  assert.deepEqual(unknown, [], `records that are not lines we wrote: ${sample(unknown)}`);
  assert.equal(missing.length, 0, `${missing.length} of ${count} lines never arrived, e.g. seq ${sample(missing)}`);
  assert.equal(duplicated.length, 0, `lines delivered more than once: ${sample(duplicated)}`);
  assert.equal(records.length, count);
  return seqs;
}

/** Positions where the stream order goes backwards. */
function orderBreaks(seqs) {
  const out = [];
  for (let i = 1; i < seqs.length; i++) if (seqs[i] !== seqs[i - 1] + 1) out.push({ at: i, prev: seqs[i - 1], seq: seqs[i] });
  return out;
}

test('rename + create: 50,000 lines over 5 rotations arrive exactly once, in order', { timeout: 60000 }, async (t) => {
  try {
    const dir = path.join(tmp, 'rename');
    fs.mkdirSync(dir);
    const file = path.join(dir, 'app.log');
    fs.writeFileSync(file, '');
    const p = await startPipeline('rename', file, 'rot-rename');

    let fd = fs.openSync(file, 'a');
    let rotations = 0;
    const started = Date.now();
    for (let seq = 0; seq < LINES;) {
      // Just before each rotation, a burst the daemon cannot have read yet
      // when the file is renamed: it must come from the renamed file, and
      // before the lines of the new one.
      const n = rotations < ROTATIONS && ROTATE_AT[rotations] - seq === BURST_LINES
        ? BURST_LINES : Math.min(LINES_PER_WRITE, LINES - seq);
      fs.writeSync(fd, linesText(seq, seq + n));
      seq += n;
      if (rotations < ROTATIONS && seq === ROTATE_AT[rotations]) {
        // What logrotate's `create` does, with the application reopening at
        // once: shift the old files, rename, create anew. The writer never
        // writes to a renamed file, so every line has one place.
        fs.closeSync(fd);
        for (let k = KEEP_ROTATED; k >= 1; k--) {
          const from = k === 1 ? file : `${file}.${k - 1}`;
          if (k === KEEP_ROTATED) fs.rmSync(`${file}.${k}`, { force: true });
          if (fs.existsSync(from)) fs.renameSync(from, `${file}.${k}`);
        }
        fd = fs.openSync(file, 'a');
        rotations++;
        // Nothing goes into the new file until the daemon has read the
        // rotated one to its end. Needed only because of the bug the next
        // test shows (a replacement with a lower inode is read first); once
        // that is fixed, this wait can go.
        const written = seq;
        await waitFor(async () => (await metric(p.admin, 'kinship_input_records_total')) >= written,
          { timeoutMs: 10000, intervalMs: 5, what: `the daemon to read the rotated file to its end (${written} lines)` });
      }
      // Some 20,000 lines/s: the daemon keeps up, and rotations happen
      // while it is reading.
      if (seq % 500 === 0) await sleep(5);
    }
    fs.closeSync(fd);
    assert.equal(rotations, ROTATIONS);
    t.diagnostic(`wrote ${LINES} lines with ${ROTATIONS} rotations in ${Date.now() - started} ms`);

    const records = await deliveredRecords(p, 'rot-rename', LINES, 45000);
    t.diagnostic(`delivered after ${Date.now() - started} ms`);
    const seqs = checkExactlyOnce(records, LINES);
    const breaks = orderBreaks(seqs);
    assert.deepEqual(breaks, [], `stream order differs from write order at ${breaks.length} places: ${sample(breaks)}`);
    assert.equal(p.countLog(/rotated away or deleted/), ROTATIONS, 'each rotation was noticed once');
    assert.equal(await metric(p.admin, 'kinship_input_files_open'), 1, 'rotated files were closed');
  } catch (e) {
    failed = true;
    throw e;
  }
});

// The daemon lags (stopped with SIGSTOP) while a burst is written, the file
// is rotated and its replacement written to: on waking it finds both files
// with unread lines, and must read the rotated one to its end first. The
// replacement is a file created before the rotation and renamed into place,
// so its inode is lower than the rotated file's (as with ext4 reusing a
// deleted rotation's inode).
test('rename while the daemon lags: the rotated file is read to its end before its replacement', {
  timeout: 30000,
}, async (t) => {
  const dir = path.join(tmp, 'lag');
  fs.mkdirSync(dir);
  const file = path.join(dir, 'app.log');
  const spare = path.join(dir, 'next.tmp'); // not matched by the pattern
  fs.writeFileSync(spare, '');
  fs.writeFileSync(file, '');
  const p = await startPipeline('lag', file, 'rot-lag');
  let fd = fs.openSync(file, 'a');
  fs.writeSync(fd, linesText(0, 100));
  await waitFor(async () => (await metric(p.admin, 'kinship_input_records_total')) >= 100,
    { timeoutMs: 10000, what: 'the first lines to be read' });

  p.daemon.proc.kill('SIGSTOP');
  try {
    fs.writeSync(fd, linesText(100, 3000));
    fs.closeSync(fd);
    fs.renameSync(file, `${file}.1`);
    fs.renameSync(spare, file);
    fd = fs.openSync(file, 'a');
    fs.writeSync(fd, linesText(3000, 3500));
    fs.closeSync(fd);
    t.diagnostic(`inode of the rotated file ${fs.statSync(`${file}.1`).ino}, of its replacement ${fs.statSync(file).ino}`);
  } finally {
    p.daemon.proc.kill('SIGCONT');
  }
  const records = await deliveredRecords(p, 'rot-lag', 3500, 15000);
  const seqs = checkExactlyOnce(records, 3500);
  const breaks = orderBreaks(seqs);
  assert.deepEqual(breaks, [], `stream order differs from write order at ${breaks.length} places: ${sample(breaks)}`);
});

test('copytruncate: 50,000 lines over 5 copy+truncate rotations arrive exactly once', { timeout: 60000 }, async (t) => {
  try {
    const dir = path.join(tmp, 'copytruncate');
    fs.mkdirSync(dir);
    const file = path.join(dir, 'app.log');
    fs.writeFileSync(file, '');
    const p = await startPipeline('copytruncate', file, 'rot-copytruncate');

    // copytruncate cannot be lossless on its own: lines written between the
    // copy and the truncation are lost (logrotate says so), and lines the
    // daemon has not read yet when the file is truncated exist only in the
    // copy, which the pattern does not name. So around each rotation the
    // writer pauses until the daemon has read everything written, copies and
    // truncates, and resumes once the daemon has logged the truncation (had
    // the file grown past the old offset before the daemon looked, the
    // shrink could not be seen). Between rotations it writes freely.
    const fd = fs.openSync(file, 'a'); // O_APPEND: after truncation, writes go to the new end
    let rotations = 0;
    const started = Date.now();
    for (let seq = 0; seq < LINES;) {
      const n = Math.min(LINES_PER_WRITE, LINES - seq);
      fs.writeSync(fd, linesText(seq, seq + n));
      seq += n;
      if (rotations < ROTATIONS && seq === ROTATE_AT[rotations]) {
        const written = seq;
        await waitFor(async () => (await metric(p.admin, 'kinship_input_records_total')) >= written,
          { timeoutMs: 10000, intervalMs: 10, what: `the daemon to read ${written} lines before rotation` });
        const truncationsBefore = p.countLog(/truncated/);
        fs.copyFileSync(file, `${file}.1`);
        fs.ftruncateSync(fd, 0);
        await waitFor(() => p.countLog(/truncated/) > truncationsBefore,
          { timeoutMs: 10000, intervalMs: 5, what: 'the daemon to log the truncation' });
        rotations++;
      }
      if (seq % 500 === 0) await sleep(5);
    }
    fs.closeSync(fd);
    assert.equal(rotations, ROTATIONS);
    t.diagnostic(`wrote ${LINES} lines with ${ROTATIONS} copytruncates in ${Date.now() - started} ms`);

    const records = await deliveredRecords(p, 'rot-copytruncate', LINES, 45000);
    t.diagnostic(`delivered after ${Date.now() - started} ms`);
    const seqs = checkExactlyOnce(records, LINES);
    t.diagnostic(`${orderBreaks(seqs).length} places where the stream order differs from the write order`);
  } catch (e) {
    failed = true;
    throw e;
  }
});

test('symlinked path: when the link moves to a new target, lines of both targets arrive', { timeout: 30000 }, async (t) => {
  try {
    // /var/log/containers/<pod>.log -> /var/log/pods/<pod>/<container>/0.log;
    // a restarted container gets a new target.
    const containers = path.join(tmp, 'containers');
    const podA = path.join(tmp, 'pods', 'a');
    const podB = path.join(tmp, 'pods', 'b');
    for (const d of [containers, podA, podB]) fs.mkdirSync(d, { recursive: true });
    const link = path.join(containers, 'app.log');
    const targetA = path.join(podA, '0.log');
    const targetB = path.join(podB, '0.log');
    fs.writeFileSync(targetA, linesText(0, 100));
    fs.symlinkSync(targetA, link);
    const p = await startPipeline('symlink', path.join(containers, '*.log'), 'rot-symlink');
    await waitFor(async () => (await metric(p.admin, 'kinship_sink_records_sent_total')) >= 100,
      { timeoutMs: 10000, what: 'the first target\'s lines' });

    // The old target gets a last few lines, then the link moves (atomically,
    // like `ln -sfn`: a new link renamed over the old one) to a new file.
    fs.appendFileSync(targetA, linesText(100, 150));
    fs.writeFileSync(targetB, linesText(150, 250));
    const tmpLink = path.join(containers, '.app.log.new');
    fs.symlinkSync(targetB, tmpLink);
    fs.renameSync(tmpLink, link);
    await sleep(200);
    fs.appendFileSync(targetB, linesText(250, 300));
    const appended = Date.now();

    const records = await deliveredRecords(p, 'rot-symlink', 300, 15000);
    // inotify watches the pattern's directory, not the targets': growth of a
    // target is seen by the poll_interval rescan (1 s here).
    t.diagnostic(`lines appended to the new target arrived within ${Date.now() - appended} ms`);
    checkExactlyOnce(records, 300);
    // Both targets were followed; the old one is closed once read to its end.
    await waitFor(async () => (await metric(p.admin, 'kinship_input_files_open')) === 1,
      { timeoutMs: 5000, what: 'the old target to be closed' });
    t.diagnostic('lines of both targets arrived once each');
  } catch (e) {
    failed = true;
    throw e;
  }
});
