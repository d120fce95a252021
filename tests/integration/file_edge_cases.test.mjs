// Edge cases of the file input through the real daemon, into kinesalite
// (`parser: raw`, so records are the bytes of the line):
//  - a line over max_line_size (1 KiB here) is dropped and counted in
//    kinship_input_dropped_total{reason="line_too_long"}; the lines around it
//    arrive, including one of exactly max_line_size bytes;
//  - CRLF line endings: the records carry no "\r";
//  - invalid UTF-8 and NUL bytes arrive byte for byte;
//  - a file truncated to zero and rewritten: the new lines arrive; and
//    also when it was rewritten past the old offset while
//    the daemon lagged, which its size alone cannot show;
//  - a deleted file is read to its end; the daemon keeps running and picks
//    up a new file of the same name;
//  - a missing final newline: the last line arrives once it has not grown
//    for partial_line_timeout, and when its file is deleted;
//  - paths matching `exclude` are not read;
//  - multiline: a stack trace in <tmp>/in/*.trace (a second input) arrives
//    as one record.
// One daemon follows <tmp>/in/*.log (and *.trace); each case writes its own
// file and looks for its own records (each line starts with the case's tag).
//
// Run by ctest as `node file_edge_cases.test.mjs` with KINSHIP_BIN and
// NODE_PATH set; by hand: KINSHIP_BIN=build/kinship node tests/integration/file_edge_cases.test.mjs

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';

import { startKinesalite } from '../support/kinesalite_server.mjs';
import { KinesisClient } from '../support/kinesis_client.mjs';
import { makeTempDir, sleep, startDaemon, tailOf, waitFor } from '../support/daemon.mjs';

const STREAM = 'kinship-edge';
const MAX_LINE = 1024;

let kinesalite;
let kc;
let tmp;
let inDir;
let daemon;
let admin;
let failed = false;
const logLines = [];

before(async () => {
  tmp = makeTempDir('kinship-edge-');
  inDir = path.join(tmp, 'in');
  fs.mkdirSync(inDir);
  kinesalite = await startKinesalite({ port: 0 });
  kc = new KinesisClient(kinesalite.endpoint);
  await kc.createStream(STREAM, 1);
  const configPath = path.join(tmp, 'kinship.yaml');
  fs.writeFileSync(configPath, [
    `data_dir: ${JSON.stringify(path.join(tmp, 'state'))}`,
    'pipelines:',
    '  edge:',
    '    inputs:',
    '      - type: file',
    `        paths: [${JSON.stringify(path.join(inDir, '*.log'))}]`,
    '        start_at: beginning',
    '        parser: raw',
    '        max_line_size: 1KiB',
    // Small blocks, so that an over-long line spans several reads.
    '        read_buffer_size: 4KiB',
    '        poll_interval: 200ms',
    '        partial_line_timeout: 500ms',
    '        exclude: ["*-skip.log"]',
    '      - type: file',
    `        paths: [${JSON.stringify(path.join(inDir, '*.trace'))}]`,
    '        start_at: beginning',
    '        poll_interval: 200ms',
    "        multiline: { start: '^M-[0-9]+ ', timeout: 300ms }",
    '    sink:',
    '      type: kinesis',
    `      stream: ${STREAM}`,
    '      region: us-east-1',
    `      endpoint: ${JSON.stringify(kinesalite.endpoint)}`,
    '      linger: 20ms',
    '      max_in_flight: 1', // the stream in the order read
    '      pacing: false',
    'admin:',
    '  listen: "127.0.0.1:0"',
    '',
  ].join('\n'));
  daemon = startDaemon(['--config', configPath]);
  let partial = '';
  daemon.proc.stderr.on('data', (chunk) => {
    const parts = (partial + chunk.toString('utf8')).split('\n');
    partial = parts.pop();
    logLines.push(...parts);
  });
  admin = await waitFor(() => {
    if (daemon.status()) throw new Error(`kinship exited at start-up:\n${tailOf(daemon.stderr())}`);
    return daemon.stderr().match(/admin endpoint listening on (http:\/\/[0-9.:]+)/)?.[1];
  }, { timeoutMs: 10000, intervalMs: 20, what: 'the admin endpoint' });
});

after(async () => {
  if (daemon) {
    const stopped = await daemon.stop('SIGTERM', 10000);
    if (!failed && (stopped.timedOut || stopped.code !== 0)) {
      console.error(`# kinship did not stop cleanly: ${JSON.stringify(stopped)}\n${tailOf(daemon.stderr())}`);
      process.exitCode = 1;
    }
  }
  if (kinesalite) await kinesalite.close();
  if (tmp) {
    if (failed) console.error(`# kept ${tmp} for inspection`);
    else fs.rmSync(tmp, { recursive: true, force: true });
  }
});

/** The sum of a metric's series whose labels include `labels`. */
async function metric(name, labels = {}) {
  const text = await (await fetch(`${admin}/metrics`)).text();
  let total = 0;
  for (const l of text.split('\n')) {
    const m = l.match(/^([a-z_]+)(\{[^}]*\})?\s+(\S+)$/);
    if (!m || m[1] !== name) continue;
    const labelText = m[2] ?? '';
    if (Object.entries(labels).every(([k, v]) => labelText.includes(`${k}="${v}"`))) total += Number(m[3]);
  }
  return total;
}

// Records read so far, from one long-lived reader per shard (the stream has
// one shard), so each wait reads only what is new.
const seen = [];
let iterator;
async function pollStream() {
  if (!iterator) {
    const [shard] = await kc.listShards(STREAM);
    iterator = await kc.shardIterator(STREAM, shard.ShardId, 'TRIM_HORIZON');
  }
  for (;;) {
    const r = await kc.call('GetRecords', { ShardIterator: iterator, Limit: 10000 });
    iterator = r.NextShardIterator;
    for (const rec of r.Records ?? []) seen.push(Buffer.from(rec.Data, 'base64'));
    if ((r.Records ?? []).length === 0) return;
  }
}

/** Records whose data starts with `tag`. */
const withTag = (tag) => seen.filter((d) => d.subarray(0, tag.length).equals(Buffer.from(tag)));

/** Waits until a record equal to `last` has arrived; returns the records tagged `tag`. */
async function waitForRecord(tag, last, { timeoutMs = 15000 } = {}) {
  const lastBuf = Buffer.from(last);
  await waitFor(async () => {
    if (daemon.status()) throw new Error(`kinship exited: ${JSON.stringify(daemon.status())}\n${tailOf(daemon.stderr())}`);
    await pollStream();
    return seen.some((d) => d.equals(lastBuf));
  }, { timeoutMs, intervalMs: 50, what: `record ${JSON.stringify(last.toString().slice(0, 40))}` });
  // A moment more, so that late duplicates would show up too.
  await sleep(250);
  await pollStream();
  return withTag(tag);
}

const show = (bufs) => bufs.map((b) => (b.length > 60 ? `${b.subarray(0, 40).toString('latin1')}…(${b.length} bytes)` : b.toString('latin1')));

function assertRecords(actual, expected, what) {
  assert.deepEqual(show(actual), show(expected.map((e) => Buffer.from(e))), what);
  for (let i = 0; i < expected.length; i++) {
    assert.ok(actual[i].equals(Buffer.from(expected[i])), `${what}: record ${i} differs byte for byte`);
  }
}

function wrap(fn) {
  return async (t) => {
    try {
      await fn(t);
    } catch (e) {
      failed = true;
      console.error(`# kinship stderr (tail):\n${tailOf(daemon?.stderr() ?? '')}`);
      throw e;
    }
  };
}

test('a line over max_line_size is dropped and counted; the lines around it arrive', wrap(async () => {
  const file = path.join(inDir, 'long.log');
  const exact = 'L-exact ' + 'e'.repeat(MAX_LINE - 'L-exact '.length); // exactly max_line_size: kept
  assert.equal(exact.length, MAX_LINE);
  const oneOver = 'L-over ' + 'o'.repeat(MAX_LINE + 1 - 'L-over '.length);
  const huge = 'L-huge ' + 'h'.repeat(20000); // spans several 4 KiB reads
  const before = await metric('kinship_input_dropped_total', { reason: 'line_too_long' });
  fs.writeFileSync(file, ['L-1 first', oneOver, 'L-2 after one byte too many', exact, huge, 'L-3 after a huge line']
    .map((l) => l + '\n').join(''));
  // A huge line that arrives in pieces, across reads and appends.
  fs.appendFileSync(file, 'L-huge2 ' + 'p'.repeat(3000));
  await sleep(100);
  fs.appendFileSync(file, 'p'.repeat(3000) + '\nL-4 last\n');
  const records = await waitForRecord('L-', 'L-4 last');
  assertRecords(records, ['L-1 first', 'L-2 after one byte too many', exact, 'L-3 after a huge line', 'L-4 last'],
    'records of long.log');
  await waitFor(async () => (await metric('kinship_input_dropped_total', { reason: 'line_too_long' })) === before + 3,
    { timeoutMs: 3000, what: 'kinship_input_dropped_total{reason="line_too_long"} to count 3 lines' });
  assert.ok(logLines.some((l) => /longer than max_line_size/.test(l)), 'the drop is logged');
}));

test('CRLF line endings: records arrive without the \\r', wrap(async () => {
  const file = path.join(inDir, 'crlf.log');
  fs.writeFileSync(file, 'C-1 windows\r\nC-2 a \r inside stays\r\nC-3 plain\nC-4 {"json":true}\r\n');
  const records = await waitForRecord('C-', 'C-4 {"json":true}');
  assertRecords(records, ['C-1 windows', 'C-2 a \r inside stays', 'C-3 plain', 'C-4 {"json":true}'],
    'records of crlf.log');
}));

test('invalid UTF-8 and NUL bytes arrive byte for byte', wrap(async () => {
  const file = path.join(inDir, 'binary.log');
  const lines = [
    Buffer.from([...Buffer.from('B-1 invalid utf-8: '), 0xff, 0xfe, 0xc3, 0x28, 0xa0, 0xa1]),
    Buffer.from([...Buffer.from('B-2 nul: '), 0x00, 0x41, 0x00, 0x00, 0x42]),
    Buffer.from([...Buffer.from('B-3 overlong and truncated: '), 0xc0, 0xaf, 0xe2, 0x82, 0xf0, 0x9f, 0x98]),
    Buffer.from([...Buffer.from('B-4 all bytes: '), ...Array.from({ length: 256 }, (_, i) => i).filter((b) => b !== 0x0a)]),
    Buffer.from('B-5 café 日本語 🚀 valid too'),
  ];
  fs.writeFileSync(file, Buffer.concat(lines.flatMap((l) => [l, Buffer.from('\n')])));
  const records = await waitForRecord('B-', lines[4]);
  assertRecords(records, lines, 'records of binary.log');
}));

test('a file truncated to zero and written again: the new lines arrive', wrap(async () => {
  const file = path.join(inDir, 'trunc.log');
  const first = Array.from({ length: 20 }, (_, i) => `T-1.${i} before the truncation, padded ${'x'.repeat(40)}`);
  fs.writeFileSync(file, first.map((l) => l + '\n').join(''));
  await waitForRecord('T-1.', first.at(-1));

  // Truncated and rewritten shorter at once (`> file`): the shrink is plain to see.
  const fd = fs.openSync(file, 'r+');
  fs.ftruncateSync(fd, 0);
  fs.writeSync(fd, 'T-2.0 short\nT-2.1 rewrite\n', 0);
  fs.closeSync(fd);
  const second = await waitForRecord('T-2.', 'T-2.1 rewrite');
  assertRecords(second, ['T-2.0 short', 'T-2.1 rewrite'], 'records after the first truncation');

  // Truncated, then (once the daemon has seen it) written longer than before.
  const truncations = logLines.filter((l) => /truncated/.test(l)).length;
  fs.truncateSync(file, 0);
  await waitFor(() => logLines.filter((l) => /truncated/.test(l)).length > truncations,
    { timeoutMs: 5000, intervalMs: 20, what: 'the daemon to log the truncation' });
  const third = Array.from({ length: 40 }, (_, i) => `T-3.${i} after the second truncation ${'y'.repeat(60)}`);
  fs.appendFileSync(file, third.map((l) => l + '\n').join(''));
  const after3 = await waitForRecord('T-3.', third.at(-1));
  assertRecords(after3, third, 'records after the second truncation');
  assertRecords(withTag('T-1.'), first, 'records before the truncations, still once each');
}));

// The same while the daemon lags (stopped with SIGSTOP): the file is
// truncated and rewritten longer than the offset the daemon had reached
// before it looks again, so its size alone does not show the truncation.
test('truncated and rewritten longer while the daemon lags: the new lines arrive whole', async (t) => {
  const file = path.join(inDir, 'lagtrunc.log');
  const first = Array.from({ length: 10 }, (_, i) => `R-1.${i} before`);
  fs.writeFileSync(file, first.map((l) => l + '\n').join(''));
  await waitForRecord('R-1.', first.at(-1));
  const second = Array.from({ length: 30 }, (_, i) => `R-2.${i} after the truncation, longer than before`);
  const seenBefore = seen.length;
  daemon.proc.kill('SIGSTOP');
  try {
    const fd = fs.openSync(file, 'r+');
    fs.ftruncateSync(fd, 0);
    fs.writeSync(fd, second.map((l) => l + '\n').join(''), 0);
    fs.closeSync(fd);
  } finally {
    daemon.proc.kill('SIGCONT');
  }
  await waitForRecord('R-', second.at(-1));
  // A line cut in two by the old offset would arrive as a fragment.
  const fragments = seen.slice(seenBefore).filter((d) => !d.toString('latin1').startsWith('R-2.'));
  t.diagnostic(`records that are not whole lines: ${JSON.stringify(fragments.map((d) => d.toString('latin1')))}`);
  assertRecords(withTag('R-2.'), second, 'records of the rewritten file');
});

test('a deleted file is read to its end; a new file of that name is picked up', wrap(async () => {
  const file = path.join(inDir, 'deleted.log');
  fs.writeFileSync(file, 'D-1 first\nD-2 second\n');
  await waitForRecord('D-', 'D-2 second');
  const openBefore = await metric('kinship_input_files_open');

  // Lines written just before the deletion are still read, through the open
  // descriptor.
  fs.appendFileSync(file, 'D-3 just before deletion\nD-4 last of the old file\n');
  fs.unlinkSync(file);
  const old = await waitForRecord('D-', 'D-4 last of the old file');
  assertRecords(old, ['D-1 first', 'D-2 second', 'D-3 just before deletion', 'D-4 last of the old file'],
    'records of the deleted file');
  await waitFor(async () => (await metric('kinship_input_files_open')) === openBefore - 1,
    { timeoutMs: 5000, what: 'the deleted file to be closed' });
  assert.equal(daemon.status(), null, 'kinship keeps running');

  fs.writeFileSync(file, 'D-5 new file, same name\n');
  const all = await waitForRecord('D-', 'D-5 new file, same name');
  assertRecords(all, ['D-1 first', 'D-2 second', 'D-3 just before deletion', 'D-4 last of the old file',
    'D-5 new file, same name'], 'records of both files');
}));

test('a missing final newline: the last line arrives after partial_line_timeout', wrap(async () => {
  const file = path.join(inDir, 'nonewline.log');
  fs.writeFileSync(file, 'P-1 first\nP-2 has no newline');
  const records = await waitForRecord('P-', 'P-2 has no newline');
  assertRecords(records, ['P-1 first', 'P-2 has no newline'], 'records of nonewline.log');

  // The newline written late ends that line: no empty record, and the next
  // line is whole.
  fs.appendFileSync(file, '\nP-3 after the late newline\n');
  const more = await waitForRecord('P-', 'P-3 after the late newline');
  assertRecords(more, ['P-1 first', 'P-2 has no newline', 'P-3 after the late newline'], 'after the late newline');
  assert.equal(seen.filter((d) => d.length === 0).length, 0, 'no empty record');

  // A deleted file's unfinished last line is shipped when the file is closed.
  const gone = path.join(inDir, 'nonewline-deleted.log');
  fs.writeFileSync(gone, 'P-4 before\nP-5 last, unfinished');
  await waitForRecord('P-4', 'P-4 before');
  fs.unlinkSync(gone);
  const all = await waitForRecord('P-', 'P-5 last, unfinished');
  assert.equal(all.filter((d) => d.toString() === 'P-5 last, unfinished').length, 1, 'shipped once');
}));

test('paths matching exclude are not read', wrap(async () => {
  fs.writeFileSync(path.join(inDir, 'x-skip.log'), 'X-1 excluded\n');
  await sleep(500); // more than two polls
  fs.writeFileSync(path.join(inDir, 'x-kept.log'), 'X-2 kept\n');
  const records = await waitForRecord('X-', 'X-2 kept');
  assertRecords(records, ['X-2 kept'], 'only the file not excluded');
}));

test('multiline: a stack trace arrives as one record', wrap(async () => {
  const file = path.join(inDir, 'app.trace');
  const trace = [
    'M-1 ERROR request failed',
    'java.lang.IllegalStateException: boom',
    '\tat com.example.Service.handle(Service.java:42)',
    '\tat com.example.Server.run(Server.java:7)',
    'Caused by: java.io.IOException: closed',
    '\t... 2 more',
  ];
  fs.writeFileSync(file, ['M-0 INFO started', ...trace].map((l) => l + '\n').join(''));
  // The trace is the last record: it goes out on the 300 ms timeout.
  const records = await waitForRecord('M-', trace.join('\n'));
  assertRecords(records, ['M-0 INFO started', trace.join('\n')], 'records of app.trace');
  fs.appendFileSync(file, 'M-2 INFO next\n');
  const more = await waitForRecord('M-', 'M-2 INFO next');
  assertRecords(more, ['M-0 INFO started', trace.join('\n'), 'M-2 INFO next'], 'after the next start line');
}));
