// Acceptance test of `aggregation: kpl` (issue 17): kinship tails a file and
// ships its lines to a 4-shard stream on kinesalite, packed into KPL
// aggregated records; an independent deaggregator (awslabs' aws-kinesis-agg
// from the npm registry, checksums checked) unpacks what is read back into
// exactly the lines written, each with its partition key (and explicit hash
// key when the line names one), every line once, in the order written per
// key, and each inside a Kinesis record of the shard its key routes to.
//
// Run by ctest as `node kpl_aggregation.test.mjs` with KINSHIP_BIN and
// NODE_PATH set; by hand: KINSHIP_BIN=build/kinship node tests/integration/kpl_aggregation.test.mjs

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';

import { startKinesalite } from '../support/kinesalite_server.mjs';
import { KinesisClient, md5Hash128 } from '../support/kinesis_client.mjs';
import { appendInBursts } from '../support/log_generator.mjs';
import { makeTempDir, repoDir, sample, sleep, startDaemon, tailOf } from '../support/daemon.mjs';
import { adminUrl, metric } from '../support/metrics.mjs';

const STREAM = 'kinship-kpl';
const LINES = 6000;
const DELIVERY_TIMEOUT_MS = 120000;

function loadDeaggregator() {
  const attempts = [
    () => createRequire(import.meta.url)('aws-kinesis-agg'),
    () => createRequire(path.join(repoDir, '.deps', 'node', 'package.json'))('aws-kinesis-agg'),
  ];
  for (const load of attempts) {
    try {
      return load();
    } catch {
      // next
    }
  }
  throw new Error('aws-kinesis-agg is not installed: run bash scripts/install.sh');
}
const agg = loadDeaggregator();

// Lines of 40 keys (some with non-ASCII characters), of sizes from a few
// bytes to 30 KB, a tenth of them naming an explicit hash key.
function makeLines(runId) {
  const lines = [];
  for (let seq = 0; seq < LINES; seq++) {
    const service = ['checkout', 'payments', 'search', 'café', 'ünïcode'][seq % 5];
    const host = `h${(seq * 7) % 8}`;
    const fields = { seq, service, host, run: runId };
    let ehk;
    if (seq % 10 === 3) {
      // Spread over the whole hash-key space, so over every shard.
      ehk = ((BigInt(seq) * 0x9E3779B97F4A7C15n * 0x10000000000000000n) % (1n << 128n)).toString();
      fields.ehk = ehk;
    }
    const pad = seq % 500 === 17 ? 30000 : (seq * 37) % 300;
    fields.msg = 'x'.repeat(pad);
    const line = JSON.stringify(fields);
    lines.push({ seq, line, key: `${service}-${host}`, ehk });
  }
  return lines;
}

// The user records of one Kinesis record, through the independent deaggregator.
function deaggregate(record) {
  let out;
  let failure;
  agg.deaggregateSync(
    {
      partitionKey: record.partitionKey,
      sequenceNumber: record.sequenceNumber,
      data: record.data.toString('base64'),
    },
    true, // compute and check the MD5
    (err, userRecords) => {
      failure = err;
      out = userRecords;
    },
  );
  if (failure) throw failure;
  return out;
}

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

test('aggregated records read back and deaggregated independently are exactly the lines', { timeout: 300000 }, async (t) => {
  try {
    tmp = makeTempDir('kinship-kpl-');
    const inDir = path.join(tmp, 'in');
    fs.mkdirSync(inDir);
    const logFile = path.join(inDir, 'app.log');

    kinesalite = await startKinesalite({ port: 0 });
    const kc = new KinesisClient(kinesalite.endpoint);
    await kc.createStream(STREAM, 4);

    const configPath = path.join(tmp, 'kinship.yaml');
    fs.writeFileSync(configPath, [
      `data_dir: ${JSON.stringify(path.join(tmp, 'state'))}`,
      'pipelines:',
      '  app:',
      '    inputs:',
      '      - type: file',
      `        paths: [${JSON.stringify(path.join(inDir, '*.log'))}]`,
      '        start_at: beginning',
      '        parser: json',
      '    partition_key: "{service}-{host}"',
      '    explicit_hash_key: "{ehk}"',
      '    sink:',
      '      type: kinesis',
      `      stream: ${STREAM}`,
      '      region: us-east-1',
      `      endpoint: ${JSON.stringify(kinesalite.endpoint)}`,
      '      aggregation: kpl',
      '      aggregation_max_size: 64KiB',
      'admin:',
      '  listen: "127.0.0.1:0"',
      '',
    ].join('\n'));

    const lines = makeLines(path.basename(tmp));
    const half = LINES / 2;
    await appendInBursts(logFile, lines.slice(0, half), { bursts: 1 });
    daemon = startDaemon(['--config', configPath], { env: { AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test' } });
    const admin = await adminUrl(daemon);
    await appendInBursts(logFile, lines.slice(half), { bursts: 6, pauseMs: 150 });

    const deadline = Date.now() + DELIVERY_TIMEOUT_MS;
    while ((await metric(admin, 'kinship_sink_records_sent_total')) < LINES) {
      if (daemon.status()) assert.fail(`kinship exited early: ${JSON.stringify(daemon.status())}\n${tailOf(daemon.stderr())}`);
      if (Date.now() > deadline) break;
      await sleep(250);
    }
    const kinesisRecordsSent = await metric(admin, 'kinship_sink_kinesis_records_sent_total');
    const aggregatedSent = await metric(admin, 'kinship_sink_aggregated_records_total');
    const records = await kc.readAll(STREAM);
    t.diagnostic(`${LINES} lines in ${records.length} Kinesis records (${aggregatedSent} aggregated)`);

    // Per shard in sequence order, each Kinesis record's user records in
    // sub-sequence order: the order the stream holds them.
    records.sort((a, b) => (a.shardId === b.shardId
      ? (BigInt(a.sequenceNumber) < BigInt(b.sequenceNumber) ? -1 : 1)
      : (a.shardId < b.shardId ? -1 : 1)));
    const byLine = new Map(lines.map((l) => [l.line, l]));
    const seen = new Map();
    const unknown = [];
    const wrongKey = [];
    const wrongShard = [];
    const orderByKey = new Map();
    let aggregatedRead = 0;
    for (const r of records) {
      const users = deaggregate(r);
      if (users.length > 1 || r.data.subarray(0, 4).toString('hex') === 'f3899ac2') aggregatedRead++;
      for (const u of users) {
        const text = Buffer.from(u.data, 'base64').toString('utf8');
        const expected = byLine.get(text);
        if (!expected) {
          unknown.push(text.slice(0, 100));
          continue;
        }
        seen.set(text, (seen.get(text) ?? 0) + 1);
        // A user record without an explicit hash key has no index into the
        // table (the unit tests check that with libprotobuf), but this
        // deaggregator then reads protobufjs's default index 0: it reports
        // the table's first key. So only records that have one are compared.
        if (u.partitionKey !== expected.key || (expected.ehk !== undefined && u.explicitPartitionKey !== expected.ehk)) {
          wrongKey.push({ seq: expected.seq, key: u.partitionKey, ehk: u.explicitPartitionKey });
        }
        const hash = expected.ehk !== undefined ? BigInt(expected.ehk) : md5Hash128(expected.key);
        if (hash < r.startingHashKey || hash > r.endingHashKey) wrongShard.push({ seq: expected.seq, shard: r.shardId });
        const routing = expected.ehk !== undefined ? `ehk ${expected.seq}` : expected.key;
        if (!orderByKey.has(routing)) orderByKey.set(routing, []);
        orderByKey.get(routing).push(expected.seq);
      }
    }
    const missing = lines.filter((l) => !seen.has(l.line)).map((l) => l.seq);
    const duplicated = [...seen].filter(([, n]) => n > 1).map(([line, n]) => ({ seq: byLine.get(line).seq, n }));
    const outOfOrder = [...orderByKey].filter(([, seqs]) => seqs.some((s, i) => i > 0 && s < seqs[i - 1]))
      .map(([key]) => key);
    if (missing.length || unknown.length || duplicated.length || wrongKey.length || wrongShard.length || outOfOrder.length) {
      failed = true;
      console.error(`# kinship stderr (tail):\n${tailOf(daemon.stderr())}`);
    }
    assert.deepEqual(unknown, [], `user records that are not lines we wrote: ${sample(unknown)}`);
    assert.equal(missing.length, 0, `${missing.length} of ${LINES} lines never arrived, e.g. seq ${sample(missing)}`);
    assert.deepEqual(duplicated, [], `lines delivered more than once: ${sample(duplicated)}`);
    assert.deepEqual(wrongKey, [], `user records with the wrong keys: ${sample(wrongKey)}`);
    assert.deepEqual(wrongShard, [], `user records in the wrong shard: ${sample(wrongShard)}`);
    assert.deepEqual(outOfOrder, [], `keys whose records are out of order: ${sample(outOfOrder)}`);

    // Aggregated for real: far fewer Kinesis records than lines, as the metrics say.
    assert.equal(records.length, kinesisRecordsSent);
    assert.equal(aggregatedRead, aggregatedSent);
    assert.ok(aggregatedSent > 0 && records.length * 10 < LINES,
      `${records.length} Kinesis records for ${LINES} lines (${aggregatedSent} aggregated)`);
    // Every aggregate holds at most 64 KiB of data and key.
    const oversized = records.filter((r) => r.data.length + Buffer.byteLength(r.partitionKey) > 64 * 1024
      && r.data.subarray(0, 4).toString('hex') === 'f3899ac2');
    assert.equal(oversized.length, 0, 'aggregated records over aggregation_max_size');

    const stopped = await daemon.stop('SIGTERM', 10000);
    assert.equal(stopped.code, 0, `kinship exit after SIGTERM: ${JSON.stringify(stopped)}`);
  } catch (e) {
    failed = true;
    throw e;
  }
});
