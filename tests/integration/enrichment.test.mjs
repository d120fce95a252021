// Enrichment and the json encoding, end to end: kinship tails a logfmt file
// with add_fields (a static value and one from the environment, as the
// Kubernetes downward API sets it), add_metadata (hostname, the file's path,
// the ingestion time, the record id), `encoding: json` with a trailing
// newline and a partition key template over an added field, and ships to a
// 2-shard stream on kinesalite. Every record read back is one JSON object
// per line holding the line's fields and the added ones, keyed by the
// template. Then the daemon is stopped, its checkpoints deleted and started
// again, so it reads the whole file a second time: every line arrives twice,
// both copies with the same record_id (what a consumer dropping redeliveries
// relies on) and different ingestion times.
//
// Run by ctest as `node enrichment.test.mjs` with KINSHIP_BIN and NODE_PATH
// set; by hand: KINSHIP_BIN=build/kinship node tests/integration/enrichment.test.mjs

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { startKinesalite } from '../support/kinesalite_server.mjs';
import { KinesisClient } from '../support/kinesis_client.mjs';
import { makeTempDir, sample, sleep, startDaemon, tailOf } from '../support/daemon.mjs';

const LINES = 500;
const STREAM = 'kinship-enrich';
const DELIVERY_TIMEOUT_MS = 60000;
const LEVELS = ['info', 'warn', 'error'];

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

// Reads the stream until it holds `count` records; fails if kinship exits.
async function readUntil(kc, count) {
  const deadline = Date.now() + DELIVERY_TIMEOUT_MS;
  for (;;) {
    const records = await kc.readAll(STREAM);
    if (records.length >= count || Date.now() > deadline) return records;
    if (daemon.status()) {
      assert.fail(`kinship exited (${JSON.stringify(daemon.status())}) after ${records.length}/${count} records:\n` +
        tailOf(daemon.stderr()));
    }
    await sleep(500);
  }
}

async function runDaemon(configPath) {
  daemon = startDaemon(['--config', configPath], { env: { POD_NAME: 'web-7d4f' } });
  await sleep(300);
  if (daemon.status()) assert.fail(`kinship exited at start-up:\n${tailOf(daemon.stderr())}`);
}

async function stopDaemon() {
  const stopped = await daemon.stop('SIGTERM', 10000);
  assert.equal(stopped.code, 0, `exit code after SIGTERM:\n${tailOf(daemon.stderr())}`);
}

test('add_fields, add_metadata and encoding json reach Kinesis', { timeout: 240000 }, async (t) => {
  try {
    tmp = makeTempDir('kinship-enrich-');
    const logFile = path.join(tmp, 'app.log');
    const state = path.join(tmp, 'state');

    kinesalite = await startKinesalite({ port: 0 });
    const kc = new KinesisClient(kinesalite.endpoint);
    await kc.createStream(STREAM, 2);

    const configPath = path.join(tmp, 'kinship.yaml');
    fs.writeFileSync(configPath, [
      `data_dir: ${JSON.stringify(state)}`,
      'pipelines:',
      '  app:',
      '    inputs:',
      '      - type: file',
      `        paths: [${JSON.stringify(logFile)}]`,
      '        start_at: beginning',
      '        parser: logfmt',
      '    add_fields:',
      '      cluster: prod',
      '      pod: "${POD_NAME}"',
      '      node: "${NODE_NAME:-unknown-node}"',
      '    add_metadata:',
      '      host: hostname',
      '      file: source',
      '      ingested: ingest_time',
      '      id: record_id',
      '    encoding: json',
      '    trailing_newline: true',
      '    partition_key: "{pod}-{level}"',
      '    spool: { mode: memory }',
      '    sink:',
      '      type: kinesis',
      `      stream: ${STREAM}`,
      '      region: us-east-1',
      `      endpoint: ${JSON.stringify(kinesalite.endpoint)}`,
      'admin:',
      '  listen: "127.0.0.1:0"',
      '',
    ].join('\n'));

    // Logfmt lines with a quoted, escaped value and a field the added
    // `cluster` hides; every tenth line is free text, which does not parse.
    const lines = [];
    for (let i = 0; i < LINES; i++) {
      lines.push(i % 10 === 9 ? `free text line ${i} "quoted"`
        : `seq=${i} level=${LEVELS[i % 3]} msg="said \\"hi\\" to ${i}" cluster=dev`);
    }
    fs.writeFileSync(logFile, lines.join('\n') + '\n');

    const before = Date.now();
    await runDaemon(configPath);
    let records = await readUntil(kc, LINES);
    assert.equal(records.length, LINES, 'records after the first run');
    await stopDaemon();
    const after1 = Date.now();

    const first = new Map();  // line index -> parsed record
    const problems = [];
    for (const r of records) {
      const text = r.data.toString('utf8');
      if (!text.endsWith('\n') || text.indexOf('\n') !== text.length - 1) {
        problems.push(`not one line: ${JSON.stringify(text.slice(0, 80))}`);
        continue;
      }
      const doc = JSON.parse(text);
      const i = doc.seq !== undefined ? Number(doc.seq) : Number(/line (\d+)/.exec(doc.message)[1]);
      first.set(i, doc);
      const common = {
        cluster: 'prod', pod: 'web-7d4f', node: 'unknown-node', host: os.hostname(), file: logFile,
      };
      for (const [k, v] of Object.entries(common)) {
        if (doc[k] !== v) problems.push(`line ${i}: ${k} is ${JSON.stringify(doc[k])}, not ${JSON.stringify(v)}`);
      }
      const at = Date.parse(doc.ingested);
      if (!/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/.test(doc.ingested) || at < before - 1000 || at > after1) {
        problems.push(`line ${i}: ingested ${doc.ingested}`);
      }
      if (!/^[0-9a-f]{32}$/.test(doc.id)) problems.push(`line ${i}: id ${doc.id}`);
      if (i % 10 === 9) {
        // Did not parse: the line is the message; the key has no level.
        if (doc.message !== lines[i] || Object.keys(doc)[0] !== 'message') problems.push(`line ${i}: ${text}`);
        if (r.partitionKey.length !== 32) problems.push(`line ${i}: key ${r.partitionKey} (expected a random key)`);
      } else {
        const expected = { seq: String(i), level: LEVELS[i % 3], msg: `said "hi" to ${i}` };
        for (const [k, v] of Object.entries(expected)) {
          if (doc[k] !== v) problems.push(`line ${i}: ${k} is ${JSON.stringify(doc[k])}`);
        }
        if (r.partitionKey !== `web-7d4f-${LEVELS[i % 3]}`) problems.push(`line ${i}: key ${r.partitionKey}`);
        // Keys in a stable order: the line's, then the added ones as configured.
        const keys = Object.keys(doc).join(',');
        if (keys !== 'seq,level,msg,cluster,pod,node,host,file,ingested,id') problems.push(`line ${i}: keys ${keys}`);
      }
    }
    assert.deepEqual(problems, [], `records not as expected: ${sample(problems)}`);
    assert.equal(first.size, LINES, 'each line once');
    assert.equal(new Set([...first.values()].map((d) => d.id)).size, LINES, 'record ids are distinct');

    // Read the file again from its start: the same ids, later times.
    fs.rmSync(state, { recursive: true, force: true });
    await sleep(20);
    await runDaemon(configPath);
    records = await readUntil(kc, 2 * LINES);
    assert.equal(records.length, 2 * LINES, 'records after reading the file again');
    await stopDaemon();
    const ids = new Map();  // id -> records with it
    for (const r of records) {
      const doc = JSON.parse(r.data.toString('utf8'));
      ids.set(doc.id, [...(ids.get(doc.id) ?? []), doc]);
    }
    const notTwice = [...ids].filter(([, docs]) => docs.length !== 2).map(([id, docs]) => `${id}×${docs.length}`);
    assert.deepEqual(notTwice, [], `ids not seen exactly twice: ${sample(notTwice)}`);
    const differ = [...ids.values()].filter(([a, b]) => JSON.stringify({ ...a, ingested: 0 }) !==
      JSON.stringify({ ...b, ingested: 0 })).map(([a]) => a.id);
    assert.deepEqual(differ, [], `two readings of a line differ beyond the ingestion time: ${sample(differ)}`);
    const sameTime = [...ids.values()].filter(([a, b]) => a.ingested === b.ingested && a.seq !== undefined);
    t.diagnostic(`${ids.size} ids, each twice; ${sameTime.length} pairs with equal ingestion times`);
    assert.ok(sameTime.length < LINES / 2, 'the second reading has its own ingestion times');
  } catch (e) {
    failed = true;
    throw e;
  }
});
