// HTTPS, as AWS speaks it: kinship ships to the fake endpoint over TLS
// (a self-signed certificate made with openssl, trusted through the sink's
// `ca_file`), and against an endpoint whose certificate it does not trust it
// refuses to send, says why, counts it, keeps the records and stays up.
//
// Run by ctest with KINSHIP_BIN and KINSHIP_FAKE_BIN set.

import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

import { freeTcpPort, makeTempDir, startDaemon, tailOf, waitFor } from '../support/daemon.mjs';
import { startFake } from '../support/fake_kinesis.mjs';
import { writeNumberedLines } from '../support/log_generator.mjs';
import { scrape } from '../support/metrics.mjs';

const LINES = 20_000;

const cleanups = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
});

// A self-signed certificate for 127.0.0.1, and its key.
function makeCertificate(dir, name) {
  const cert = path.join(dir, `${name}.crt`);
  const key = path.join(dir, `${name}.key`);
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '1',
    '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'], { stdio: 'ignore' });
  return { cert, key, pem: fs.readFileSync(cert, 'utf8') };
}

function writeConfig(dir, { fakeUrl, caFile, port }) {
  const config = path.join(dir, 'kinship.yaml');
  fs.writeFileSync(config, `data_dir: ${dir}/state
pipelines:
  app:
    inputs:
      - type: file
        paths: ["${dir}/in/*.log"]
        start_at: beginning
    partition_key: "{seq}"
    sink:
      type: kinesis
      stream: tls
      region: us-east-1
      endpoint: ${fakeUrl}
      ca_file: ${caFile}
admin:
  listen: 127.0.0.1:${port}
`);
  return config;
}

test('ships every line over HTTPS to an endpoint whose certificate ca_file trusts', { timeout: 120000 }, async (t) => {
  const dir = makeTempDir('kinship-tls-');
  cleanups.push(() => fs.rmSync(dir, { recursive: true, force: true }));
  const server = makeCertificate(dir, 'server');
  const fake = await startFake(['--stream', 'tls', '--shards', '2', '--records-per-second', '0',
    '--bytes-per-second', '0', '--tls-cert', server.cert, '--tls-key', server.key], { ca: server.pem });
  cleanups.push(() => fake.stop());
  assert.match(fake.url, /^https:/);
  fs.mkdirSync(path.join(dir, 'in'));
  writeNumberedLines(path.join(dir, 'in', 'app.log'), LINES, { padBytes: 60, seqWidth: 6 });
  const config = writeConfig(dir, { fakeUrl: fake.url, caFile: server.cert, port: await freeTcpPort() });
  const daemon = startDaemon(['--config', config], { env: { AWS_ACCESS_KEY_ID: 'AKIDTLS', AWS_SECRET_ACCESS_KEY: 'secret' } });
  cleanups.push(() => daemon.kill());
  await waitFor(async () => {
    if (daemon.status()) throw new Error(`kinship exited: ${tailOf(daemon.stderr())}`);
    return (await fake.stats()).recordsAccepted >= LINES;
  }, { timeoutMs: 60000, what: `${LINES} records accepted over HTTPS` });
  const stats = await fake.stats();
  t.diagnostic(`${stats.recordsAccepted} records in ${stats.requests} requests over HTTPS`);
  assert.equal(stats.recordsAccepted, LINES);
  const stopped = await daemon.stop('SIGTERM', 30000);
  assert.equal(stopped.code, 0, tailOf(daemon.stderr()));
});

test('an endpoint whose certificate is not trusted: nothing is sent, the error is named and counted, records are kept', { timeout: 120000 }, async () => {
  const dir = makeTempDir('kinship-tls-untrusted-');
  cleanups.push(() => fs.rmSync(dir, { recursive: true, force: true }));
  const server = makeCertificate(dir, 'server');
  const other = makeCertificate(dir, 'other');
  const fake = await startFake(['--stream', 'tls', '--tls-cert', server.cert, '--tls-key', server.key], { ca: server.pem });
  cleanups.push(() => fake.stop());
  fs.mkdirSync(path.join(dir, 'in'));
  writeNumberedLines(path.join(dir, 'in', 'app.log'), 100, { padBytes: 20, seqWidth: 6 });
  const port = await freeTcpPort();
  const config = writeConfig(dir, { fakeUrl: fake.url, caFile: other.cert, port });
  const daemon = startDaemon(['--config', config], { env: { AWS_ACCESS_KEY_ID: 'AKIDTLS', AWS_SECRET_ACCESS_KEY: 'secret' } });
  cleanups.push(() => daemon.kill());
  const admin = `http://127.0.0.1:${port}`;
  await waitFor(async () => {
    if (daemon.status()) throw new Error(`kinship exited: ${tailOf(daemon.stderr())}`);
    try {
      const samples = await scrape(admin);
      return samples.some((s) => s.name === 'kinship_sink_request_errors_total' && /tls/.test(s.labels.error ?? '') &&
        s.value > 0);
    } catch {
      return false;  // not listening yet
    }
  }, { timeoutMs: 30000, what: 'a TLS request error counted' });
  assert.match(daemon.stderr(), /certificate|SSL|TLS/i, 'the log says what is wrong');
  assert.equal((await fake.stats()).recordsAccepted, 0);
  // The spool gauges are published twice a second.
  await waitFor(async () => {
    const samples = await scrape(admin);
    return samples.find((s) => s.name === 'kinship_spool_records' && s.labels.pipeline === 'app')?.value === 100;
  }, { timeoutMs: 10000, what: 'the 100 records waiting in the spool' });
  const ready = await fetch(`${admin}/readyz`);
  assert.equal(ready.status, 503, 'not ready while nothing can be sent');
  assert.equal(daemon.status(), null, 'still running');
  const stopped = await daemon.stop('SIGTERM', 30000);
  assert.equal(stopped.code, 0, tailOf(daemon.stderr()));
});
