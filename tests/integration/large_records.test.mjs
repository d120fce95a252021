// Records over 1 MiB (issue 17): a stream configured for larger records says
// so in DescribeStreamSummary (MaxRecordSizeInKiB), and the daemon, with no
// max_record_size set, sends what fits it. The fake endpoint plays such a
// stream (--max-record-size); the daemon runs with its defaults (disk
// spool, CBOR) and a file input whose max_line_size allows the long lines.
// - On a 3 MiB stream, lines of 1.5 and 2.5 MiB arrive whole, byte for
//   byte, between small ones.
// - On a default (1 MiB) stream the same long lines are dead letters
//   (counted as too_large, written to the dead-letter file) and the small
//   ones still arrive.

import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';

import { makeTempDir, startDaemon, waitFor } from '../support/daemon.mjs';
import { startFake } from '../support/fake_kinesis.mjs';
import { writeFileToKinesisConfig } from '../support/kinship_config.mjs';
import { adminUrl, metric } from '../support/metrics.mjs';

const cleanups = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
});

const MiB = 1024 * 1024;

// Lines of one letter each, so a record that arrives cut or mixed shows.
const lines = [
  'small-1',
  'a'.repeat(1.5 * MiB),
  'small-2',
  'b'.repeat(2.5 * MiB),
  'small-3',
];

function writeConfig(dir, endpoint) {
  return writeFileToKinesisConfig(dir, {
    endpoint, stream: 'big', input: ['max_line_size: 4MiB'], sink: [`dead_letter_path: ${dir}/dead.jsonl`],
  });
}

async function run(fakeArgs) {
  const fake = await startFake(['--stream', 'big', '--shards', '2', ...fakeArgs]);
  cleanups.push(() => fake.stop());
  const dir = makeTempDir();
  const config = writeConfig(dir, fake.url);
  fs.writeFileSync(path.join(dir, 'in', 'app.log'), lines.map((l) => `${l}\n`).join(''));
  const daemon = startDaemon(['--config', config]);
  cleanups.push(() => daemon.kill());
  const admin = await adminUrl(daemon);
  return { fake, dir, daemon, admin };
}

async function records(fake) {
  const text = await (await fetch(`${fake.url}/_fake/records`)).text();
  return text.split('\n').filter(Boolean).map((l) => Buffer.from(JSON.parse(l).data, 'base64').toString('latin1'));
}

async function stop(daemon) {
  const stopped = await daemon.stop('SIGTERM', 15000);
  assert.equal(stopped.code, 0, `kinship exit code after SIGTERM\n${daemon.stderr().slice(-3000)}`);
}

test('a stream of 3 MiB records takes lines of 1.5 and 2.5 MiB whole', async () => {
  const { fake, daemon } = await run(['--max-record-size', String(3 * MiB)]);
  await waitFor(async () => (await fake.stats()).recordsAccepted >= lines.length, {
    timeoutMs: 30000, what: `${lines.length} records accepted`,
  });
  await stop(daemon);
  const got = await records(fake);
  assert.equal(got.length, lines.length, 'every line once');
  // Two shards: the order holds within each key's shard, not across; compare as sets.
  assert.deepEqual(got.map((r) => r.length).sort((x, y) => x - y), lines.map((l) => l.length).sort((x, y) => x - y));
  for (const line of lines) assert.ok(got.includes(line), `line of ${line.length} bytes arrived byte for byte`);
  assert.match(daemon.stderr(), /3072 KiB|3 MiB|3145728/, 'the record size read from the stream is logged');
});

test('a default stream (1 MiB records): the long lines are dead letters, the small ones arrive', async () => {
  const { fake, dir, daemon, admin } = await run([]);
  await waitFor(async () => (await metric(admin, 'kinship_sink_records_dropped_total', { reason: 'too_large' })) >= 2, {
    timeoutMs: 30000, what: 'two records dropped as too large',
  });
  await waitFor(async () => (await fake.stats()).recordsAccepted >= 3, { timeoutMs: 30000, what: '3 small records' });
  await stop(daemon);
  const got = await records(fake);
  assert.deepEqual(got.sort(), ['small-1', 'small-2', 'small-3']);
  const dead = fs.readFileSync(path.join(dir, 'dead.jsonl'), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));
  assert.equal(dead.length, 2);
  assert.deepEqual(dead.map((d) => d.reason), ['too_large', 'too_large']);
  assert.deepEqual(dead.map((d) => Buffer.from(d.data, 'base64').length).sort((x, y) => x - y), [1.5 * MiB, 2.5 * MiB]);
});
