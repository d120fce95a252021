// Reload (issue 14): SIGHUP re-reads the configuration while 2,000 lines/s
// are written.
//  1. A broken file is refused: the old configuration keeps running and
//     ready, and kinship_config_reloads_total{result="invalid"} counts it.
//  2. A new file adds an input to pipeline `app` and changes its partition
//     key, removes pipeline `other`, and moves the admin endpoint. Then:
//     every line of app's first file arrives exactly once, those read before
//     the reload with the old key and those after with the new one (one cut,
//     in file order); every line of the added input arrives once with the new
//     key; `other` delivered a gap-free prefix of its file, each line once,
//     including everything written a second before the reload; the old admin
//     port is closed and the new one answers.
//
// Run by ctest with KINSHIP_BIN and NODE_PATH set; by hand:
// KINSHIP_BIN=build/kinship NODE_PATH=.deps/node/node_modules node tests/integration/reload.test.mjs

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';

import { startKinesalite } from '../support/kinesalite_server.mjs';
import { KinesisClient } from '../support/kinesis_client.mjs';
import { freeTcpPort, makeTempDir, sample, sleep, startDaemon, tailOf, waitFor } from '../support/daemon.mjs';
import { metric } from '../support/metrics.mjs';

const APP_STREAM = 'reload-app';
const OTHER_STREAM = 'reload-other';
const TICK_MS = 50;
const PER_TICK = { a: 50, b: 25, c: 25 };  // 2,000 lines/s in all

let kinesalite;
let daemon;
let tmp;
let failed = false;
after(async () => {
  if (daemon) await daemon.kill();
  if (kinesalite) await kinesalite.close();
  if (tmp) {
    if (failed) console.error(`# kept ${tmp} for inspection`);
    else fs.rmSync(tmp, { recursive: true, force: true });
  }
});

function configText({ endpoint, inDir, dataDir, adminPort, version }) {
  const sink = (stream) => [
    '    sink:',
    '      type: kinesis',
    `      stream: ${stream}`,
    '      region: us-east-1',
    `      endpoint: ${JSON.stringify(endpoint)}`,
  ];
  const fileInput = (name) => [
    '      - type: file',
    `        paths: [${JSON.stringify(path.join(inDir, name))}]`,
    '        start_at: beginning',
    '        parser: json',
  ];
  const lines = [`data_dir: ${JSON.stringify(dataDir)}`, 'shutdown_timeout: 10s', 'pipelines:', '  app:', '    inputs:',
    ...fileInput('a.log')];
  if (version === 1) {
    lines.push('    partition_key: "{k1}"', ...sink(APP_STREAM),
      '  other:', '    inputs:', ...fileInput('b.log'), '    partition_key: "{k1}"', ...sink(OTHER_STREAM));
  } else {
    lines.push(...fileInput('c.log'), '    partition_key: "{k2}"', ...sink(APP_STREAM));
  }
  lines.push('admin:', `  listen: "127.0.0.1:${adminPort}"`, '');
  return lines.join('\n');
}

// Appends PER_TICK lines to each file every TICK_MS until stopped.
function startWriter(inDir) {
  const next = { a: 0, b: 0, c: 0 };
  const timer = setInterval(() => {
    for (const src of ['a', 'b', 'c']) {
      let chunk = '';
      for (let i = 0; i < PER_TICK[src]; i++) {
        chunk += JSON.stringify({ seq: next[src]++, src, k1: 'old-key', k2: 'new-key', pad: 'x'.repeat(60) }) + '\n';
      }
      fs.appendFileSync(path.join(inDir, `${src}.log`), chunk);
    }
  }, TICK_MS);
  return { written: () => ({ ...next }), stop: () => clearInterval(timer) };
}

function waitForLog(pattern, what, timeoutMs = 20000) {
  return waitFor(() => {
    if (daemon.status()) throw new Error(`kinship exited while waiting for ${what}:\n${tailOf(daemon.stderr())}`);
    return pattern.exec(daemon.stderr());
  }, { what, timeoutMs, intervalMs: 20 });
}

// Per seq: how often it arrived and with which keys.
function bySeq(records, src) {
  const seen = new Map();
  for (const r of records) {
    const line = JSON.parse(r.data.toString('utf8'));
    if (line.src !== src) continue;
    if (!seen.has(line.seq)) seen.set(line.seq, []);
    seen.get(line.seq).push(r.partitionKey);
  }
  return seen;
}

test('SIGHUP: a broken config is refused; then an added input, a changed key, a removed pipeline and a moved admin port, with every line once', { timeout: 300000 }, async (t) => {
  try {
    tmp = makeTempDir('kinship-reload-');
    const inDir = path.join(tmp, 'in');
    fs.mkdirSync(inDir);
    for (const f of ['a.log', 'b.log', 'c.log']) fs.writeFileSync(path.join(inDir, f), '');
    kinesalite = await startKinesalite({ port: 0 });
    const kc = new KinesisClient(kinesalite.endpoint);
    await kc.createStream(APP_STREAM, 2);
    await kc.createStream(OTHER_STREAM, 1);

    const [port1, port2] = [await freeTcpPort(), await freeTcpPort()];
    const settings = { endpoint: kinesalite.endpoint, inDir, dataDir: path.join(tmp, 'state') };
    const configPath = path.join(tmp, 'kinship.yaml');
    fs.writeFileSync(configPath, configText({ ...settings, adminPort: port1, version: 1 }));
    daemon = startDaemon(['--config', configPath]);
    await waitForLog(/kinship \S+ running/, 'the start');
    const admin1 = `http://127.0.0.1:${port1}`;
    const writer = startWriter(inDir);
    await sleep(1500);

    // 1. A broken configuration: refused, counted, the old one still ready.
    fs.writeFileSync(configPath, 'pipelines: [\n');
    daemon.proc.kill('SIGHUP');
    await waitForLog(/reload of .* refused; still running the previous configuration: .*invalid YAML/, 'the refusal');
    assert.equal((await fetch(`${admin1}/readyz`)).status, 200, 'ready after a refused reload');
    assert.equal(await metric(admin1, 'kinship_config_reloads_total', { result: 'invalid' }), 1);
    assert.equal(await metric(admin1, 'kinship_config_last_reload_successful'), 0);
    await sleep(1000);

    // 2. The new configuration.
    fs.writeFileSync(configPath, configText({ ...settings, adminPort: port2, version: 2 }));
    const beforeReload = writer.written();
    await sleep(1000);
    daemon.proc.kill('SIGHUP');
    await waitForLog(/reload: 0 unchanged, 0 added, 1 removed \(other\), 1 changed \(app\)/, 'the reload plan');
    await waitForLog(/reload done/, 'the end of the reload');
    await sleep(3000);
    writer.stop();
    const written = writer.written();
    t.diagnostic(`written: ${JSON.stringify(written)}; before the reload: ${JSON.stringify(beforeReload)}`);

    const admin2 = `http://127.0.0.1:${port2}`;
    assert.equal((await fetch(`${admin2}/readyz`)).status, 200, 'the new admin endpoint answers');
    await assert.rejects(fetch(`${admin1}/healthz`), 'the old admin port is closed');
    assert.equal(await metric(admin2, 'kinship_config_reloads_total', { result: 'success' }), 1);
    assert.equal(await metric(admin2, 'kinship_config_reloads_total', { result: 'invalid' }), 1);
    assert.equal(await metric(admin2, 'kinship_config_last_reload_successful'), 1);

    // Everything of a.log and c.log arrives.
    let app = [];
    await waitFor(async () => {
      app = await kc.readAll(APP_STREAM);
      return app.length >= written.a + written.c;
    }, { what: 'every line of a.log and c.log', timeoutMs: 60000, intervalMs: 1000 }).catch(() => {});
    await sleep(1000);
    app = await kc.readAll(APP_STREAM);
    const other = await kc.readAll(OTHER_STREAM);

    const a = bySeq(app, 'a');
    const missingA = [];
    const twiceA = [];
    const keysA = [];
    for (let seq = 0; seq < written.a; seq++) {
      const keys = a.get(seq);
      if (!keys) missingA.push(seq);
      else if (keys.length > 1) twiceA.push({ seq, keys });
      else keysA.push(keys[0]);
    }
    assert.deepEqual(missingA, [], `a.log lines missing: ${sample(missingA)}`);
    assert.deepEqual(twiceA, [], `a.log lines delivered more than once: ${sample(twiceA)}`);
    const cut = keysA.indexOf('new-key');
    assert.ok(cut > 0, `some a.log lines were read under the old key (cut at ${cut})`);
    assert.ok(keysA.slice(0, cut).every((k) => k === 'old-key') && keysA.slice(cut).every((k) => k === 'new-key'),
      `a.log keys change once, in file order: old up to ${cut}, then ${sample(keysA.slice(cut).filter((k) => k !== 'new-key'))}`);
    assert.ok(cut >= beforeReload.a, `lines written before the reload carry the old key (cut ${cut}, ${beforeReload.a} written)`);

    const c = bySeq(app, 'c');
    const badC = [];
    for (let seq = 0; seq < written.c; seq++) {
      const keys = c.get(seq);
      if (!keys || keys.length !== 1 || keys[0] !== 'new-key') badC.push({ seq, keys });
    }
    assert.deepEqual(badC, [], `c.log (the added input) lines not delivered once with the new key: ${sample(badC)}`);
    assert.equal(app.length, written.a + written.c, 'nothing else in the app stream');

    const b = bySeq(other, 'b');
    const seqs = [...b.keys()].sort((x, y) => x - y);
    assert.ok(seqs.every((s, i) => s === i), `other delivered a gap-free prefix of b.log: ${sample(seqs.filter((s, i) => s !== i))}`);
    assert.ok([...b.values()].every((keys) => keys.length === 1), 'each b.log line at most once');
    assert.ok(seqs.length >= beforeReload.b, `b.log lines written a second before the reload arrived (${seqs.length} of ${beforeReload.b})`);
    assert.ok(seqs.length < written.b, 'the removed pipeline stopped reading');

    const stopped = await daemon.stop('SIGTERM', 20000);
    assert.equal(stopped.code, 0, tailOf(daemon.stderr()));
  } catch (e) {
    failed = true;
    if (daemon) console.error(`# kinship stderr (tail):\n${tailOf(daemon.stderr())}`);
    throw e;
  }
});
