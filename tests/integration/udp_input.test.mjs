// The UDP input through the real daemon (issue 4): a flood of 100,000
// datagrams/s for 5 s into a udp input with the discard sink.
// - Every datagram sent is accounted for exactly: received
//   (kinship_input_records_total) + every counted drop
//   (kinship_input_dropped_total by reason: kernel_overflow, queue_full, ...)
//   == sent, and every record received reaches the sink;
// - the daemon stays up: /healthz answers, SIGTERM exits 0;
// - datagrams over max_datagram_size: dropped whole, counted as truncated;
// - overloaded (slow sink, small queue, tiny socket buffer): the same sum
//   holds with drops of both kinds;
// - the same over IPv6 on [::1] (skipped with a message when ::1 cannot be bound).
// Figures (received, drops by reason, rates) are printed, not asserted.

import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import fs from 'node:fs';
import path from 'node:path';

import { makeTempDir, sleep, startDaemon, tailOf, waitFor } from '../support/daemon.mjs';
import { sendDatagrams } from '../support/datagram_sender.mjs';
import { adminUrl, metricByLabel, metricSum, scrape } from '../support/metrics.mjs';

const cleanups = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
});

const RATE = 100000;
const SECONDS = 5;
const SIZE = 200;

async function startUdpDaemon(listen, { inputExtra = '', sinkExtra = '', pipelineExtra = '' } = {}) {
  const dir = makeTempDir('kinship-udp-');
  cleanups.push(() => fs.rmSync(dir, { recursive: true, force: true }));
  const config = path.join(dir, 'kinship.yaml');
  fs.writeFileSync(
    config,
    `data_dir: ${dir}/state
pipelines:
  flood:
    inputs:
      - type: udp
        listen: "${listen}"
        parser: json
${inputExtra}
${pipelineExtra}
    sink:
      type: discard
${sinkExtra}
admin:
  listen: 127.0.0.1:0
`,
  );
  const daemon = startDaemon(['--config', config]);
  cleanups.push(() => daemon.kill());
  const admin = await adminUrl(daemon);
  // Port 0 in the config: the kernel picks a free port, which the input logs.
  const port = await waitFor(() => /udp input udp_0 on .*: listening on port (\d+)/.exec(daemon.stderr())?.[1], {
    what: 'the udp input to listen',
  });
  return { daemon, admin, port: Number(port) };
}

function figuresFrom(samples) {
  const input = { pipeline: 'flood', input: 'udp_0' };
  const received = metricSum(samples, 'kinship_input_records_total', input);
  const drops = metricByLabel(samples, 'kinship_input_dropped_total', 'reason', input);
  const dropped = Object.values(drops).reduce((a, b) => a + b, 0);
  const delivered = metricSum(samples, 'kinship_sink_records_sent_total', { pipeline: 'flood' });
  return { received, drops, dropped, accounted: received + dropped, delivered };
}

// The counts only grow. Waits until every datagram sent is accounted for
// and the sink has every record received, or until nothing has moved for
// 5 s (then the caller's exact assertions show what is missing).
async function settledFigures(admin, sent) {
  let last = '';
  let lastChange = Date.now();
  for (;;) {
    const f = figuresFrom(await scrape(admin));
    if (f.accounted >= sent && f.delivered >= f.received) return f;
    const now = Date.now();
    const key = `${f.accounted}/${f.delivered}`;
    if (key !== last) {
      last = key;
      lastChange = now;
    } else if (now - lastChange > 5000) {
      return f;
    }
    await sleep(100);
  }
}

// CPU time (user + system) a process has used so far, from /proc; clock
// ticks are 1/100 s on Linux.
function cpuSeconds(pid) {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

async function floodAndAccount({ listen, target, count, label, daemonOptions = {}, senderArgs = [] }) {
  const { daemon, admin, port } = await startUdpDaemon(listen, daemonOptions);
  const summary = await sendDatagrams([
    '--udp', `${target}:${port}`, '--count', String(count), '--rate', String(RATE), '--size', String(SIZE),
    ...senderArgs,
  ]);
  const sentAt = Date.now();
  const f = await settledFigures(admin, summary.sent);
  const settledAt = Date.now();
  const health = await fetch(`${admin}/healthz`);
  const cpu = cpuSeconds(daemon.proc.pid);
  const stopped = await daemon.stop('SIGTERM', 15000);
  const stoppedAt = Date.now();

  const pct = (n) => ((100 * n) / summary.sent).toFixed(2);
  console.log(
    `${label}: sent ${summary.sent} datagrams of ${SIZE} bytes in ${summary.seconds.toFixed(2)} s ` +
      `(${summary.rate.toFixed(0)}/s asked ${RATE}/s; sender waited ${summary.eagain_waits} times for buffer room)`,
  );
  console.log(
    `${label}: received ${f.received} (${pct(f.received)}%), dropped ${f.dropped} ` +
      `${JSON.stringify(f.drops)}; accounted ${f.accounted} of ${summary.sent}; delivered to the sink ${f.delivered}` +
      ` (settled ${settledAt - sentAt} ms after the last send; stopped in ${stoppedAt - settledAt} ms; ` +
      `daemon CPU ${cpu.toFixed(2)} s in all)`,
  );

  const log = tailOf(daemon.stderr(), 30);
  assert.equal(summary.sent, count, 'the sender got every datagram into the kernel');
  assert.ok(f.received > 0, `the input received nothing\n${log}`);
  assert.equal(
    f.accounted,
    summary.sent,
    `received ${f.received} + dropped ${JSON.stringify(f.drops)} != sent ${summary.sent}\n${log}`,
  );
  assert.equal(f.delivered, f.received, 'every record received reached the sink');
  assert.equal(health.status, 200, '/healthz after the flood');
  assert.equal(stopped.timedOut, false, 'SIGTERM stops it in time');
  assert.equal(stopped.code, 0, `exit code after SIGTERM\n${log}`);
  return f;
}

test(`IPv4: ${RATE} datagrams/s for ${SECONDS} s, every one received or counted as dropped`, async () => {
  await floodAndAccount({ listen: '127.0.0.1:0', target: '127.0.0.1', count: RATE * SECONDS, label: 'udp 127.0.0.1' });
});

test('overloaded: a slow sink, a small queue and a tiny socket buffer; drops of both kinds add up', async () => {
  // The sink takes 5 ms per batch behind a 64 KiB queue, so the queue fills
  // (queue_full); bursts of 1024 datagrams overflow a 4 KiB socket buffer
  // (kernel_overflow).
  const f = await floodAndAccount({
    listen: '127.0.0.1:0', target: '127.0.0.1', count: RATE, label: 'udp overloaded',
    daemonOptions: {
      inputExtra: '        receive_buffer_size: 4KiB',
      // Memory mode: a disk spool would drain the queue as fast as it fills.
      pipelineExtra: '    queue_size: 64KiB\n    spool: {mode: memory}',
      sinkExtra: '      delay: 5ms',
    },
    senderArgs: ['--burst', '1024'],
  });
  assert.ok((f.drops.queue_full ?? 0) > 0, 'the queue filled: queue_full drops were counted');
  assert.ok((f.drops.kernel_overflow ?? 0) > 0, 'the socket buffer overflowed: kernel_overflow drops were counted');
});

test('datagrams over max_datagram_size are dropped whole and counted as truncated', async () => {
  const { daemon, admin, port } = await startUdpDaemon('127.0.0.1:0', {
    inputExtra: '        max_datagram_size: 512',
  });
  const target = `127.0.0.1:${port}`;
  // 5,000 that fit, then 5,000 of 1000 bytes that the kernel cuts to 512.
  const fit = await sendDatagrams(['--udp', target, '--count', '5000', '--rate', '20000', '--size', '400']);
  const cut = await sendDatagrams(['--udp', target, '--count', '5000', '--rate', '20000', '--size', '1000',
    '--first-seq', '5000']);
  const sent = fit.sent + cut.sent;
  const f = await settledFigures(admin, sent);
  const bytes = metricSum(await scrape(admin), 'kinship_input_bytes_total', { pipeline: 'flood', input: 'udp_0' });
  await daemon.stop('SIGTERM', 15000);

  console.log(`truncation: sent ${fit.sent} of 400 bytes and ${cut.sent} of 1000 bytes (max_datagram_size 512); ` +
    `received ${f.received} (${bytes} bytes), dropped ${JSON.stringify(f.drops)}`);
  assert.equal(sent, 10000);
  assert.equal(f.accounted, sent, 'received + dropped == sent');
  assert.ok(f.drops.truncated > 0, 'the long datagrams were counted as truncated');
  // Only whole 400-byte datagrams were shipped: nothing cut was kept in part.
  assert.ok(f.received > 0);
  assert.equal(bytes, 400 * f.received, 'every record received is a whole 400-byte datagram');
  assert.ok(f.received <= fit.sent && f.drops.truncated <= cut.sent);
});

async function canBindIpv6Loopback() {
  const socket = dgram.createSocket('udp6');
  try {
    await new Promise((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(0, '::1', resolve);
    });
    return true;
  } catch {
    return false;
  } finally {
    try {
      socket.close();
    } catch {
      // Already closed by the failed bind.
    }
  }
}

test(`IPv6 [::1]: ${RATE} datagrams/s for 1 s, every one received or counted as dropped`, async (t) => {
  if (!(await canBindIpv6Loopback())) {
    t.skip('this machine cannot bind a UDP socket on ::1 (no IPv6 loopback)');
    return;
  }
  await floodAndAccount({ listen: '[::1]:0', target: '[::1]', count: RATE, label: 'udp [::1]' });
});
