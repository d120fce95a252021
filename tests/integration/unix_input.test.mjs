// The Unix socket input through the real daemon (issue 4):
// (a) stream mode: 50 clients at once, 2,000 JSON lines each, into the fake
//     Kinesis endpoint: every line delivered exactly once, each client's
//     lines in the order it wrote them; socket_mode applied;
// (b) datagram mode, fed by kinship-datagram-sender: received + drops == sent;
// (c) a stale socket file at the path (its process died without unlinking
//     it) is removed and the daemon starts, in both modes;
// (d) a regular file at the path: the daemon refuses to start, names the
//     path, and leaves the file alone;
// (e) a socket another kinship listens on: the second refuses to start.
// Every daemon that started must exit 0 on SIGTERM. Figures are printed.

import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';

import { makeTempDir, runKinship, sample, sleep, startDaemon, tailOf, waitFor } from '../support/daemon.mjs';
import { sendDatagrams } from '../support/datagram_sender.mjs';
import { startFake } from '../support/fake_kinesis.mjs';
import { adminUrl, metricByLabel, metricSum, scrape } from '../support/metrics.mjs';

const cleanups = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
});

function tempDir() {
  const dir = makeTempDir('kinship-unix-');
  cleanups.push(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function writeConfig(dir, { input, sink = 'type: discard', pipelineExtra = '' }) {
  const file = path.join(dir, 'kinship.yaml');
  const indent = (text, n) => text.trim().split('\n').map((l) => ' '.repeat(n) + l.trim()).join('\n');
  fs.writeFileSync(
    file,
    `data_dir: ${dir}/state
pipelines:
  local:
    inputs:
      - type: unix
${indent(input, 8)}
${pipelineExtra}
    sink:
${indent(sink, 6)}
admin:
  listen: 127.0.0.1:0
`,
  );
  return file;
}

async function startKinship(config) {
  const daemon = startDaemon(['--config', config]);
  cleanups.push(() => daemon.kill());
  const admin = await adminUrl(daemon);
  // The admin endpoint listens before the inputs start; this line comes after.
  await waitFor(() => / running .*local: 1 input/.test(daemon.stderr()), { what: 'the inputs to start' });
  return { daemon, admin };
}

async function stopKinship(daemon) {
  const stopped = await daemon.stop('SIGTERM', 15000);
  assert.equal(stopped.timedOut, false, 'SIGTERM stops it in time');
  assert.equal(stopped.code, 0, `exit code after SIGTERM\n${tailOf(daemon.stderr(), 30)}`);
}

const inputLabels = { pipeline: 'local', input: 'unix_0' };

// Writes `lines` to a new connection, honouring backpressure, then closes it.
function runClient(socketPath, lines, chunk = 100) {
  return new Promise((resolve, reject) => {
    const socket = net.createConnection(socketPath);
    socket.on('error', reject);
    socket.on('close', (hadError) => (hadError ? null : resolve()));
    socket.on('connect', async () => {
      for (let i = 0; i < lines.length; i += chunk) {
        const ok = socket.write(lines.slice(i, i + chunk).join(''));
        if (!ok) await new Promise((r) => socket.once('drain', r));
      }
      socket.end();
    });
  });
}

/** All records the fake accepted, decoded, in acceptance order. */
async function fakeRecords(fake) {
  const text = await (await fetch(`${fake.url}/_fake/records?limit=1000000`)).text();
  return text
    .split('\n')
    .filter(Boolean)
    .map((l) => {
      const r = JSON.parse(l);
      return { ...r, body: Buffer.from(r.data, 'base64').toString('utf8') };
    });
}

test('(a) stream: 50 clients x 2,000 lines each, every line delivered once and in order per client', async () => {
  const CLIENTS = 50;
  const LINES = 2000;
  const total = CLIENTS * LINES;
  const fake = await startFake(['--stream', 'local', '--shards', '4', '--records-per-second', '0',
    '--bytes-per-second', '0']);
  cleanups.push(() => fake.stop());
  const dir = tempDir();
  const socketPath = path.join(dir, 'app.sock');
  // The key is the client, so each client's lines go to one shard; with one
  // request in flight and nothing to retry (no limits, no faults: checked
  // below) the sink keeps a shard's records in the order it took them, so
  // the stream shows the order the input produced. (ordering: per_key would
  // guarantee it through retries too, but sends one record per key per
  // round trip: about a minute for this test.) No pacing: the fake has no
  // shard limits.
  const config = writeConfig(dir, {
    input: `path: ${socketPath}\nmode: stream\nparser: json\nsocket_mode: "0600"`,
    // A small queue: the input pauses reading while it is full.
    pipelineExtra: '    partition_key: "{client}"\n    queue_size: 256KiB',
    sink: `type: kinesis\nstream: local\nregion: us-east-1\nendpoint: ${fake.url}\nmax_in_flight: 1\npacing: false`,
  });
  const { daemon, admin } = await startKinship(config);

  const st = fs.lstatSync(socketPath);
  assert.ok(st.isSocket(), `${socketPath} is a socket`);
  assert.equal(st.mode & 0o777, 0o600, `socket_mode 0600 applied (got ${(st.mode & 0o777).toString(8)})`);

  const started = Date.now();
  const clients = [];
  for (let c = 0; c < CLIENTS; c++) {
    const client = `c${String(c).padStart(2, '0')}`;
    const lines = [];
    for (let i = 0; i < LINES; i++) lines.push(`{"client":"${client}","seq":${i},"pad":"${'y'.repeat(60)}"}\n`);
    clients.push(runClient(socketPath, lines));
  }
  await Promise.all(clients);
  const writtenMs = Date.now() - started;

  // Waits while deliveries progress; stops at the total, or when nothing
  // has moved for 10 s (the assertions below then show what is missing).
  let last = -1;
  let lastChange = Date.now();
  for (;;) {
    const accepted = (await fake.stats()).recordsAccepted;
    if (accepted >= total) break;
    if (accepted !== last) [last, lastChange] = [accepted, Date.now()];
    else if (Date.now() - lastChange > 10000) break;
    await sleep(100);
  }
  const deliveredMs = Date.now() - started;
  const stats = await fake.stats();
  const samples = await scrape(admin);
  const read = metricSum(samples, 'kinship_input_records_total', inputLabels);
  const drops = metricByLabel(samples, 'kinship_input_dropped_total', 'reason', inputLabels);
  const health = (await fetch(`${admin}/healthz`)).status;
  await stopKinship(daemon);

  console.log(`stream: ${CLIENTS} clients wrote ${total} lines in ${(writtenMs / 1000).toFixed(2)} s; all accepted ` +
    `after ${(deliveredMs / 1000).toFixed(2)} s (${((total * 1000) / deliveredMs).toFixed(0)} lines/s); ` +
    `input read ${read}, dropped ${JSON.stringify(drops)}; fake accepted ${stats.recordsAccepted}, ` +
    `duplicates ${stats.duplicates}, requests ${stats.requests}`);

  const records = await fakeRecords(fake);
  assert.equal(records.length, total, `the fake stored every accepted record (read ${read})`);
  const seen = new Set();
  const nextSeq = new Map();  // client -> the seq expected next
  const outOfOrder = [];
  const shardOf = new Map();
  for (const r of records) {
    const line = JSON.parse(r.body);
    const id = `${line.client}/${line.seq}`;
    assert.ok(!seen.has(id), `${id} delivered twice`);
    seen.add(id);
    assert.equal(r.partitionKey, line.client, 'partition key from the template');
    if (!shardOf.has(line.client)) shardOf.set(line.client, r.shardId);
    assert.equal(r.shardId, shardOf.get(line.client), 'one key, one shard');
    const expected = nextSeq.get(line.client) ?? 0;
    if (line.seq !== expected) outOfOrder.push(`${line.client}: ${line.seq} where ${expected} was next`);
    nextSeq.set(line.client, line.seq + 1);
  }
  assert.deepEqual(outOfOrder, [], `each client's lines arrive in the order written: ${sample(outOfOrder)}`);
  assert.equal(seen.size, total);
  assert.equal(nextSeq.size, CLIENTS);
  for (const [client, next] of nextSeq) assert.equal(next, LINES, `${client}: all its lines`);
  assert.equal(read, total, 'the input read every line once');
  assert.equal(stats.duplicates, 0);
  assert.equal(stats.recordsThrottled, 0, 'nothing throttled, so nothing retried');
  assert.deepEqual(stats.recordsFailed, {}, 'no record failed, so nothing retried');
  assert.equal(health, 200);
});

async function datagramsAccountedFor({ label, socketMode, pipelineExtra = '', sinkExtra = '' }) {
  const COUNT = 100000;
  const dir = tempDir();
  const socketPath = path.join(dir, 'dgram.sock');
  const config = writeConfig(dir, {
    input: `path: ${socketPath}\nmode: datagram\nparser: json\nsocket_mode: "${socketMode}"`,
    pipelineExtra,
    sink: `type: discard\n${sinkExtra}`,
  });
  const { daemon, admin } = await startKinship(config);
  const mode = fs.lstatSync(socketPath).mode & 0o777;
  assert.equal(mode.toString(8), socketMode.replace(/^0/, ''), 'socket_mode applied');

  const summary = await sendDatagrams(['--unix', socketPath, '--count', String(COUNT), '--size', '200',
    '--newline']);
  // Counts only grow: wait until they add up, or until they stop moving.
  let f;
  let last = -1;
  let lastChange = Date.now();
  for (;;) {
    const samples = await scrape(admin);
    const received = metricSum(samples, 'kinship_input_records_total', inputLabels);
    const drops = metricByLabel(samples, 'kinship_input_dropped_total', 'reason', inputLabels);
    const dropped = Object.values(drops).reduce((a, b) => a + b, 0);
    const delivered = metricSum(samples, 'kinship_sink_records_sent_total', { pipeline: 'local' });
    f = { received, drops, dropped, delivered };
    if (received + dropped >= summary.sent && delivered >= received) break;
    if (received + dropped + delivered !== last) [last, lastChange] = [received + dropped + delivered, Date.now()];
    else if (Date.now() - lastChange > 5000) break;
    await sleep(100);
  }
  const health = (await fetch(`${admin}/healthz`)).status;
  await stopKinship(daemon);

  console.log(`${label}: sent ${summary.sent} in ${summary.seconds.toFixed(2)} s (${summary.rate.toFixed(0)}/s, ` +
    `sender waited ${summary.eagain_waits} times for the receiver's queue); received ${f.received}, ` +
    `dropped ${f.dropped} ${JSON.stringify(f.drops)}; delivered to the sink ${f.delivered}`);
  assert.equal(summary.sent, COUNT);
  assert.ok(f.received > 0, 'the input received datagrams');
  assert.equal(f.received + f.dropped, summary.sent, 'received + dropped == sent');
  assert.equal(f.delivered, f.received, 'every record received reached the sink');
  assert.equal(health, 200);
  assert.ok(!fs.existsSync(socketPath), 'the socket file is removed at stop');
  return f;
}

test('(b) datagram: every datagram sent is received or counted as dropped', async () => {
  await datagramsAccountedFor({ label: 'datagram', socketMode: '0622' });
});

test('(b) datagram, overloaded: a slow sink behind a small queue; received + queue_full drops == sent', async () => {
  // The sink takes 5 ms per batch behind a 64 KiB queue: the queue fills,
  // and datagrams are read and dropped rather than left to block the sender.
  // Memory mode: a disk spool would drain the queue as fast as it fills.
  const f = await datagramsAccountedFor({
    label: 'datagram overloaded', socketMode: '0600', pipelineExtra: '    queue_size: 64KiB\n    spool: {mode: memory}',
    sinkExtra: 'delay: 5ms',
  });
  assert.ok((f.drops.queue_full ?? 0) > 0, 'the queue filled: queue_full drops were counted');
});

// A socket file whose process died without unlinking it: a node server
// bound to `socketPath` that kills itself with SIGKILL.
async function leaveStaleSocket(socketPath) {
  const script = `require('net').createServer().listen(${JSON.stringify(socketPath)}, () => ` +
    `process.kill(process.pid, 'SIGKILL'))`;
  const child = spawn(process.execPath, ['-e', script], { stdio: 'ignore' });
  const signal = await new Promise((resolve) => child.on('exit', (_code, sig) => resolve(sig)));
  assert.equal(signal, 'SIGKILL');
  assert.ok(fs.lstatSync(socketPath).isSocket(), 'the dead process left its socket file behind');
  // Stale indeed: no one listens on it.
  const refused = await new Promise((resolve) => {
    const probe = net.createConnection(socketPath);
    probe.on('connect', () => {
      probe.destroy();
      resolve('connected');
    });
    probe.on('error', (e) => resolve(e.code));
  });
  assert.equal(refused, 'ECONNREFUSED', 'connecting to the stale socket is refused');
}

for (const mode of ['stream', 'datagram']) {
  test(`(c) ${mode}: a stale socket file at the path is removed and the daemon starts`, async () => {
    const dir = tempDir();
    const socketPath = path.join(dir, 'stale.sock');
    await leaveStaleSocket(socketPath);
    const config = writeConfig(dir, { input: `path: ${socketPath}\nmode: ${mode}\nsocket_mode: "0620"` });
    const { daemon, admin } = await startKinship(config);

    const st = fs.lstatSync(socketPath);
    assert.ok(st.isSocket());
    assert.equal(st.mode & 0o777, 0o620, 'socket_mode 0620 applied');
    assert.ok(daemon.stderr().includes(`removed stale socket ${socketPath}`), 'the removal is logged');

    // A live socket replaced the stale one: a record sent to it is read.
    if (mode === 'stream') {
      await runClient(socketPath, ['{"hello":"stream"}\n']);
    } else {
      const s = await sendDatagrams(['--unix', socketPath, '--count', '1', '--size', '64']);
      assert.equal(s.sent, 1);
    }
    await waitFor(async () => metricSum(await scrape(admin), 'kinship_input_records_total', inputLabels) === 1, {
      what: 'the record sent to the new socket',
    });
    await stopKinship(daemon);
  });
}

test('(d) a regular file at the path: refuses to start, names the path, leaves the file alone', async () => {
  const dir = tempDir();
  const filePath = path.join(dir, 'not-a-socket');
  fs.writeFileSync(filePath, 'precious data\n');
  const before = fs.statSync(filePath);
  const config = writeConfig(dir, { input: `path: ${filePath}\nmode: stream` });

  const run = await runKinship(['--config', config], { timeoutMs: 15000 });
  console.log(`regular file: exit code ${run.code}; stderr: ${run.stderr.trim().split('\n').slice(-2).join(' | ')}`);
  assert.equal(run.timedOut, false, 'it exits rather than runs');
  assert.notEqual(run.code, 0, 'exit code is not 0');
  assert.equal(run.signal, null);
  assert.ok(run.stderr.includes(`${filePath} exists and is not a socket`), `stderr names the path:\n${run.stderr}`);
  const after = fs.statSync(filePath);
  assert.equal(fs.readFileSync(filePath, 'utf8'), 'precious data\n', 'the file is untouched');
  assert.equal(after.ino, before.ino);
  assert.equal(after.mtimeMs, before.mtimeMs);
  assert.equal(after.mode, before.mode);
});

test('(e) a socket another kinship is listening on: the second refuses to start, the first keeps working', async () => {
  const dir = tempDir();
  const socketPath = path.join(dir, 'live.sock');
  const first = await startKinship(writeConfig(dir, { input: `path: ${socketPath}\nmode: stream` }));
  const secondDir = tempDir();
  const run = await runKinship(['--config', writeConfig(secondDir, { input: `path: ${socketPath}\nmode: stream` })],
    { timeoutMs: 15000 });
  console.log(`live socket: second kinship exit code ${run.code}; ` +
    `${run.stderr.trim().split('\n').pop().replace(/^\S+ /, '')}`);
  assert.equal(run.timedOut, false);
  assert.notEqual(run.code, 0, 'the second one does not start');
  assert.ok(run.stderr.includes(`${socketPath} is in use`), `stderr names the path:\n${run.stderr}`);

  assert.ok(fs.lstatSync(socketPath).isSocket(), 'the first one\'s socket is still there');
  await runClient(socketPath, ['{"still":"working"}\n']);
  await waitFor(async () => metricSum(await scrape(first.admin), 'kinship_input_records_total', inputLabels) === 1, {
    what: 'the first kinship to read a record',
  });
  await stopKinship(first.daemon);
});
