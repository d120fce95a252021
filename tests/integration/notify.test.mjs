// systemd notification (issue 14): run as a Type=notify service, kinship
// sends READY=1 only once its inputs run, STATUS= summaries, and, with
// WATCHDOG_USEC set, WATCHDOG=1 every half period while the event loop and
// every pipeline thread turn; a stalled event loop (the test hook
// KINSHIP_TEST_STALL_ON_SIGUSR1_MS) stops the pings until it turns again.
// kinship-notify-listener stands in for systemd's socket.
//
// Run by ctest with KINSHIP_BIN and KINSHIP_NOTIFY_LISTENER_BIN set; by hand:
// KINSHIP_BIN=build/kinship KINSHIP_NOTIFY_LISTENER_BIN=build/kinship-notify-listener \
//   node tests/integration/notify.test.mjs

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import dgram from 'node:dgram';
import fs from 'node:fs';
import path from 'node:path';

import { makeTempDir, repoDir, sleep, startDaemon, tailOf, waitFor } from '../support/daemon.mjs';
import { adminUrl, metric } from '../support/metrics.mjs';

const tmp = makeTempDir('kinship-notify-');
const children = [];
after(async () => {
  for (const c of children) await c.kill();
  fs.rmSync(tmp, { recursive: true, force: true });
});

// The notification socket: every message with the time it arrived.
async function startListener(socketPath) {
  const bin = process.env.KINSHIP_NOTIFY_LISTENER_BIN || path.join(repoDir, 'build', 'kinship-notify-listener');
  const proc = spawn(bin, [socketPath], { stdio: ['ignore', 'pipe', 'inherit'] });
  const messages = [];
  let buffered = '';
  let listening = false;
  proc.stdout.on('data', (chunk) => {
    buffered += chunk.toString('utf8');
    let nl;
    while ((nl = buffered.indexOf('\n')) >= 0) {
      const line = buffered.slice(0, nl);
      buffered = buffered.slice(nl + 1);
      if (line === 'listening') {
        listening = true;
        continue;
      }
      const space = line.indexOf(' ');
      messages.push({ at: Date.now(), text: line.slice(space + 1) });
    }
  });
  children.push({ kill: async () => proc.kill('SIGKILL') });
  await waitFor(() => listening, { what: 'the notification listener' });
  return messages;
}

function freeUdpPort() {
  return new Promise((resolve) => {
    const s = dgram.createSocket('udp4');
    s.bind(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

function sendDatagram(port, text) {
  return new Promise((resolve, reject) => {
    const s = dgram.createSocket('udp4');
    s.send(Buffer.from(text), port, '127.0.0.1', (e) => {
      s.close();
      if (e) reject(e);
      else resolve();
    });
  });
}

const pings = (messages, from = 0, to = Infinity) =>
  messages.filter((m) => m.text === 'WATCHDOG=1' && m.at >= from && m.at < to);

test('READY=1 after the inputs run, STATUS= lines, watchdog pings at half the period, none while the loop stalls', async () => {
  const socketPath = path.join(tmp, 'notify.sock');
  const messages = await startListener(socketPath);
  const port = await freeUdpPort();
  fs.mkdirSync(path.join(tmp, 'in'), { recursive: true });
  const config = path.join(tmp, 'kinship.yaml');
  fs.writeFileSync(config, [
    `data_dir: ${JSON.stringify(path.join(tmp, 'state'))}`,
    'pipelines:',
    '  app:',
    '    inputs:',
    '      - type: file',
    `        paths: [${JSON.stringify(path.join(tmp, 'in', '*.log'))}]`,
    '      - type: udp',
    `        listen: "127.0.0.1:${port}"`,
    '    sink:',
    '      type: discard',
    'admin:',
    '  listen: "127.0.0.1:0"',
    '',
  ].join('\n'));
  const daemon = startDaemon(['--config', config], {
    env: { NOTIFY_SOCKET: socketPath, WATCHDOG_USEC: '400000', KINSHIP_TEST_STALL_ON_SIGUSR1_MS: '2500' },
  });
  children.push(daemon);

  // READY=1: at that moment the UDP input must already hold its port, so a
  // datagram sent right then is read (not refused by the kernel).
  const ready = await waitFor(() => {
    if (daemon.status()) throw new Error(`kinship exited:\n${tailOf(daemon.stderr())}`);
    return messages.find((m) => m.text === 'READY=1');
  }, { what: 'READY=1', intervalMs: 1 });
  await sendDatagram(port, 'sent the moment READY=1 arrived');
  assert.match(daemon.stderr(), /running .*app: 2 inputs -> discard/, 'READY=1 before the "running" log line');
  const first = messages.indexOf(ready);
  assert.ok(messages.slice(0, first).some((m) => /^STATUS=1 pipeline, \d+ records\/s, spool backlog /.test(m.text)),
    `a STATUS= line with READY=1: ${JSON.stringify(messages.slice(0, first + 1))}`);
  const admin = await adminUrl(daemon);
  await waitFor(async () => (await metric(admin, 'kinship_pipeline_records_total', { pipeline: 'app' })) === 1,
    { what: 'the datagram sent at READY=1 to be read' });

  // Pings every 200 ms (half of WATCHDOG_USEC): count them over 3 s.
  const t0 = Date.now();
  await sleep(3000);
  const counted = pings(messages, t0, t0 + 3000).length;
  assert.ok(counted >= 11 && counted <= 19, `${counted} pings in 3 s, expected about 15`);

  // Periodic STATUS= lines (every 5 s).
  await waitFor(() => messages.filter((m) => m.text.startsWith('STATUS=')).length >= 2,
    { what: 'a second STATUS= line', timeoutMs: 8000 });

  // The event loop blocks for 2.5 s: no ping in that time, then they resume.
  const stallAt = Date.now();
  daemon.proc.kill('SIGUSR1');
  await waitFor(() => /test hook: blocking the event loop/.test(daemon.stderr()), { what: 'the stall', intervalMs: 10 });
  await sleep(4000);
  const during = pings(messages, stallAt + 300, stallAt + 2400);
  assert.equal(during.length, 0, `pings while the loop was blocked: ${JSON.stringify(during)}`);
  const afterStall = pings(messages, stallAt + 2500, stallAt + 4000);
  assert.ok(afterStall.length >= 4, `pings resume after the stall: ${afterStall.length} in 1.5 s`);
  assert.equal((await fetch(`${admin}/healthz`)).status, 200);

  const r = await daemon.stop('SIGTERM', 10000);
  assert.equal(r.code, 0, tailOf(daemon.stderr()));
  assert.ok(messages.some((m) => m.text === 'STOPPING=1'), 'STOPPING=1 on SIGTERM');
});
