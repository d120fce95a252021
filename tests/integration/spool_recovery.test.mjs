// Recovery of a damaged spool, through the daemon. A first run spools a few
// MiB of lines while the endpoint (the project's fake) answers nothing, and
// stops with the records still on disk. The test then damages the segment
// files as a crash or a bad disk would:
//  - a byte flipped inside a frame of the first segment (a corrupt frame:
//    that frame and the rest of its segment cannot be trusted);
//  - the last segment's final frame cut short (a torn tail).
// A second run with the endpoint healthy must recover without crashing,
// count one corrupt frame and one torn tail in its metrics, and deliver every
// other line exactly once. The test reads the segment layout itself (see
// spool/spool_format.h) to know which lines each frame holds.
// A second case takes the spool directory away while kinship runs (a
// regular file in its place: like a disk gone read-only or full, appends
// fail): kinship keeps running, /readyz answers 503 with the reason, the
// inputs wait, and once the directory is back every line arrives once.

import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';

import { makeTempDir, sleep, startDaemon, tailOf, waitFor } from '../support/daemon.mjs';
import { startFake } from '../support/fake_kinesis.mjs';

const LINES = 30000;  // ~4.5 MiB in 30 bursts: several 1 MiB segments of several frames

const cleanups = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
});

function varint(buf, at) {
  let value = 0;
  for (let shift = 0; ; shift += 7) {
    const b = buf[at.pos++];
    value += (b & 0x7f) * 2 ** shift;
    if ((b & 0x80) === 0) return value;
  }
}

// Frames of a segment file: [{start, end, seqs}] (spool_format.h layout).
function framesOf(file) {
  const buf = fs.readFileSync(file);
  assert.equal(buf.toString('latin1', 0, 4), 'KSPL');
  const frames = [];
  let off = 8;
  while (off + 9 <= buf.length) {
    const len = buf.readUInt32LE(off + 4);
    const at = { pos: off + 9 };
    if (buf[off + 8] === 2) {  // a file batch: its source position comes first
      const skipString = () => {
        const n = varint(buf, at);
        at.pos += n;
      };
      // Layout 2 starts with a 0 byte and the layout (2); layout 1 with the
      // input id's length, never 0.
      const layout2 = buf[at.pos] === 0;
      if (layout2) {
        assert.equal(buf[at.pos + 1], 2, 'source position layout');
        at.pos += 2;
      }
      skipString();  // input id
      at.pos += 16;  // device, inode
      skipString();  // first bytes
      skipString();  // path
      at.pos += 8;  // offset
      if (layout2) skipString();  // the bytes before the offset
    }
    at.pos += 8;  // payload: u64 append time, then varint count
    const count = varint(buf, at);
    const seqs = [];
    for (let i = 0; i < count; i++) {  // per record: three lengths, then data, key, explicit hash key
      const data = varint(buf, at);
      const rest = varint(buf, at) + varint(buf, at);
      seqs.push(JSON.parse(buf.toString('utf8', at.pos, at.pos + data)).seq);
      at.pos += data + rest;
    }
    frames.push({ start: off, end: off + 9 + len, seqs });
    off += 9 + len;
  }
  assert.equal(off, buf.length, `${file} ends inside a frame`);
  return frames;
}

async function metric(admin, name) {
  const text = await (await fetch(`${admin}/metrics`)).text();
  const m = new RegExp(`^${name}(\\{[^}]*\\})? ([0-9.e+-]+)$`, 'm').exec(text);
  return m ? Number(m[2]) : NaN;
}

async function adminOf(daemon) {
  return waitFor(() => {
    const m = /admin endpoint listening on (http:\/\/[0-9.]+:\d+)/.exec(daemon.stderr());
    return m && m[1];
  }, { what: 'the admin endpoint' });
}

test('a corrupt frame and a torn tail: counted, everything else delivered once', { timeout: 300000 }, async () => {
  const dir = makeTempDir('kinship-spool-recovery-');
  cleanups.push(() => fs.rmSync(dir, { recursive: true, force: true }));
  const fake = await startFake(['--stream', 'rec', '--shards', '2', '--records-per-second', '0',
    '--bytes-per-second', '0']);
  cleanups.push(() => fake.stop());
  await fake.post('faults', { dropRate: 1 });  // the endpoint answers nothing: records stay spooled
  fs.mkdirSync(path.join(dir, 'in'));
  const logFile = path.join(dir, 'in', 'app.log');
  fs.writeFileSync(logFile, '');
  const spoolDir = path.join(dir, 'state', 'spool', 'app');
  const config = path.join(dir, 'kinship.yaml');
  fs.writeFileSync(config, `data_dir: ${dir}/state
shutdown_timeout: 1s
pipelines:
  app:
    inputs:
      - type: file
        paths: ["${dir}/in/*.log"]
        start_at: beginning
        read_buffer_size: 128KiB
    spool: { segment_size: 1MiB, max_size: 64MiB }
    sink:
      type: kinesis
      stream: rec
      region: us-east-1
      endpoint: ${fake.url}
      pacing: false
admin:
  listen: 127.0.0.1:0
`);

  const first = startDaemon(['--config', config]);
  cleanups.push(() => first.kill());
  const admin1 = await adminOf(first);
  // In bursts, so that frames are smaller than a segment.
  for (let burst = 0; burst < 30; burst++) {
    let text = '';
    for (let i = burst * 1000; i < (burst + 1) * 1000; i++) text += `{"seq":${i},"msg":"${'z'.repeat(120)}"}\n`;
    fs.appendFileSync(logFile, text);
    await sleep(60);
  }
  await waitFor(async () => (await metric(admin1, 'kinship_spool_appended_records_total')) === LINES,
    { timeoutMs: 60000, what: 'every line spooled' });
  await sleep(1500);  // a checkpoint save covers the whole file
  assert.equal((await first.stop('SIGTERM', 20000)).code, 0, tailOf(first.stderr()));

  const segments = fs.readdirSync(spoolDir).filter((n) => n.endsWith('.seg')).sort();
  assert.ok(segments.length >= 3, `only ${segments.length} segments: ${segments}`);
  const layout = segments.map((n) => ({ name: n, frames: framesOf(path.join(spoolDir, n)) }));
  const all = layout.flatMap((s) => s.frames.flatMap((f) => f.seqs));
  assert.equal(all.length, LINES, 'the spool holds every line once');

  // Damage: flip a byte in the payload of the first segment's second frame;
  // cut the last segment's last frame short by 5 bytes.
  const firstSeg = layout[0];
  assert.ok(firstSeg.frames.length >= 3, 'the first segment holds several frames');
  const corrupt = firstSeg.frames[1];
  const fd = fs.openSync(path.join(spoolDir, firstSeg.name), 'r+');
  const at = corrupt.start + 9 + 40;
  const byte = Buffer.alloc(1);
  fs.readSync(fd, byte, 0, 1, at);
  byte[0] ^= 0x5a;
  fs.writeSync(fd, byte, 0, 1, at);
  fs.closeSync(fd);
  const lastSeg = layout[layout.length - 1];
  const torn = lastSeg.frames[lastSeg.frames.length - 1];
  fs.truncateSync(path.join(spoolDir, lastSeg.name), torn.end - 5);
  const lost = new Set([...firstSeg.frames.slice(1).flatMap((f) => f.seqs), ...torn.seqs]);

  await fake.post('faults', {});
  await fake.post('reset', {});
  const second = startDaemon(['--config', config]);
  cleanups.push(() => second.kill());
  const admin2 = await adminOf(second);
  const expected = LINES - lost.size;
  const count = async () => (await (await fetch(`${fake.url}/_fake/records?count=1`)).json()).accepted;
  await waitFor(async () => (await count()) >= expected, { timeoutMs: 60000, what: `${expected} records` });
  await sleep(1000);
  const records = (await (await fetch(`${fake.url}/_fake/records`)).text()).trim().split('\n').map((l) => JSON.parse(l));
  const delivered = records.map((r) => JSON.parse(Buffer.from(r.data, 'base64').toString('utf8')).seq);
  const corruptFrames = await metric(admin2, 'kinship_spool_corrupt_frames_total');
  const tornTails = await metric(admin2, 'kinship_spool_torn_tails_total');
  console.log(`# ${segments.length} segments; lost to the damage: ${lost.size} lines (the corrupt frame and the rest ` +
    `of its segment, and the torn frame); delivered ${delivered.length}; corrupt frames ${corruptFrames}, torn tails ${tornTails}`);
  assert.equal(corruptFrames, 1);
  assert.equal(tornTails, 1);
  assert.equal(delivered.length, expected, 'each surviving line once');
  assert.equal(new Set(delivered).size, expected);
  for (const seq of delivered) assert.ok(!lost.has(seq), `line ${seq} came from a damaged frame`);
  assert.equal((await second.stop('SIGTERM', 20000)).code, 0);
});

test('the spool directory becomes unusable: no crash, /readyz 503 with the reason, everything delivered once it is back', { timeout: 300000 }, async () => {
  const dir = makeTempDir('kinship-spool-unwritable-');
  cleanups.push(() => fs.rmSync(dir, { recursive: true, force: true }));
  const fake = await startFake(['--stream', 'unw', '--shards', '2', '--records-per-second', '0',
    '--bytes-per-second', '0']);
  cleanups.push(() => fake.stop());
  fs.mkdirSync(path.join(dir, 'in'));
  const logFile = path.join(dir, 'in', 'app.log');
  fs.writeFileSync(logFile, '');
  const spoolDir = path.join(dir, 'spool');
  const config = path.join(dir, 'kinship.yaml');
  fs.writeFileSync(config, `data_dir: ${dir}/state
pipelines:
  app:
    inputs:
      - type: file
        paths: ["${dir}/in/*.log"]
        start_at: beginning
    spool: { dir: ${spoolDir}, segment_size: 1MiB, max_size: 64MiB, fsync: always }
    sink:
      type: kinesis
      stream: unw
      region: us-east-1
      endpoint: ${fake.url}
      pacing: false
admin:
  listen: 127.0.0.1:0
`);
  const daemon = startDaemon(['--config', config]);
  cleanups.push(() => daemon.kill());
  try {
    const admin = await adminOf(daemon);
    let seq = 0;
    const writeLines = (n) => {
      let text = '';
      for (let i = 0; i < n; i++, seq++) text += `{"seq":${seq},"msg":"${'w'.repeat(200)}"}\n`;
      fs.appendFileSync(logFile, text);
    };
    writeLines(5000);
    const count = async () => (await (await fetch(`${fake.url}/_fake/records?count=1`)).json()).accepted;
    await waitFor(async () => (await count()) === 5000, { timeoutMs: 30000, what: '5000 records' });

    // The directory disappears and a regular file takes its name: new
    // segments cannot be created there, nor old ones reopened.
    const moved = `${spoolDir}.moved`;
    fs.renameSync(spoolDir, moved);
    fs.writeFileSync(spoolDir, 'not a directory');
    writeLines(20000);  // ~4.5 MiB: the spool must start new segments
    const reason = await waitFor(async () => {
      const r = await fetch(`${admin}/readyz`);
      return r.status === 503 ? r.text() : null;
    }, { timeoutMs: 30000, what: '/readyz 503' });
    assert.match(reason, /spool/);
    assert.match(reason, new RegExp(spoolDir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')));
    assert.equal(await metric(admin, 'kinship_spool_write_failing'), 1);
    await sleep(2000);
    assert.equal(daemon.status(), null, 'kinship is still running');
    assert.ok((await (await fetch(`${admin}/healthz`)).status) === 200);

    // The disk comes back.
    fs.rmSync(spoolDir);
    fs.renameSync(moved, spoolDir);
    await waitFor(async () => (await fetch(`${admin}/readyz`)).status === 200, { timeoutMs: 30000, what: '/readyz 200 again' });
    await waitFor(async () => (await count()) >= 25000, { timeoutMs: 60000, what: '25000 records' });
    await sleep(1000);
    const records = (await (await fetch(`${fake.url}/_fake/records`)).text()).trim().split('\n').map((l) => JSON.parse(l));
    const seqs = records.map((r) => JSON.parse(Buffer.from(r.data, 'base64').toString('utf8')).seq);
    const distinct = new Set(seqs);
    const errors = await metric(admin, 'kinship_spool_write_errors_total');
    console.log(`# unusable spool directory: /readyz said "${reason.trim()}"; ${errors} failed appends retried; ` +
      `${seqs.length} records accepted, ${distinct.size} distinct of 25000`);
    assert.equal(distinct.size, 25000, 'every line delivered');
    assert.equal(seqs.length, 25000, 'and only once');
    assert.ok(errors >= 1);
    assert.equal((await daemon.stop('SIGTERM', 20000)).code, 0);
  } catch (e) {
    console.error(`# stderr (tail):\n${tailOf(daemon.stderr())}`);
    throw e;
  }
});
