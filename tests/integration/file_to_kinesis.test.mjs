// Acceptance test: kinship tails a file and ships every line, exactly once
// and byte for byte, to a 4-shard stream on kinesalite, with partition keys
// from the "{service}-{host}" template and each record in the shard that its
// key hashes to. Keys longer than Kinesis allows are cut as Kinesis counts
// (UTF-16 code units: an emoji is two), so none is refused and dead-lettered.
// Then SIGTERM stops it cleanly (exit code 0).
//
// Run by ctest as `node file_to_kinesis.test.mjs` with KINSHIP_BIN and
// NODE_PATH set; by hand: KINSHIP_BIN=build/kinship node tests/integration/file_to_kinesis.test.mjs

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';

import { startKinesalite } from '../support/kinesalite_server.mjs';
import { KinesisClient, md5Hash128 } from '../support/kinesis_client.mjs';
import { generateLines, appendInBursts } from '../support/log_generator.mjs';
import { makeTempDir, sample, sleep, startDaemon, tailOf } from '../support/daemon.mjs';

const LINES = 10000;
const BURSTS = 8;
const STREAM = 'kinship-it';
const DELIVERY_TIMEOUT_MS = 120000;
const LONG_KEY_LINES = 20;

// Lines whose "{service}-{host}" key is 6 + 2 × (130..134) UTF-16 code units:
// over the limit in UTF-16, under it in code points. Kinesis (and kinesalite)
// refuse such a key; the daemon must cut it to 256 units, whole emoji only.
function longKeyLines(count, startSeq, runId) {
  const out = [];
  for (let i = 0; i < count; i++) {
    const seq = startSeq + i;
    const host = '\u{1F600}'.repeat(130 + (i % 5));
    const key = 'emoji-' + '\u{1F600}'.repeat(125);
    out.push({ seq, kind: 'longkey', key, line: JSON.stringify({ seq, service: 'emoji', host, run: runId }) });
  }
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

test('file input → kinesis sink delivers every line exactly once', { timeout: 300000 }, async (t) => {
  try {
    tmp = makeTempDir('kinship-f2k-');
    const inDir = path.join(tmp, 'in');
    fs.mkdirSync(inDir);
    const logFile = path.join(inDir, 'app.log');

    kinesalite = await startKinesalite({ port: 0 });
    const kc = new KinesisClient(kinesalite.endpoint);
    await kc.createStream(STREAM, 4);
    const shards = await kc.listShards(STREAM);
    assert.equal(shards.length, 4);

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
      '    sink:',
      '      type: kinesis',
      `      stream: ${STREAM}`,
      '      region: us-east-1',
      `      endpoint: ${JSON.stringify(kinesalite.endpoint)}`,
      'admin:',
      '  listen: "127.0.0.1:0"',
      '',
    ].join('\n'));

    const runId = path.basename(tmp);
    const lines = [...generateLines(LINES - LONG_KEY_LINES, { runId }),
      ...longKeyLines(LONG_KEY_LINES, LINES - LONG_KEY_LINES, runId)];
    const byLine = new Map(lines.map((l) => [l.line, l]));
    assert.equal(byLine.size, LINES, 'generated lines are unique');
    const kinds = { json: 0, nohost: 0, raw: 0, longkey: 0 };
    for (const l of lines) kinds[l.kind]++;
    assert.ok(kinds.raw > 0 && kinds.nohost > 0, 'the test data has lines without a key');
    assert.ok(lines.some((l) => /café/.test(l.line)) && lines.some((l) => /"ctx":\{/.test(l.line)));

    // The first burst is there before kinship starts (start_at: beginning);
    // the rest is appended while it tails the file.
    const per = Math.ceil(LINES / BURSTS);
    await appendInBursts(logFile, lines.slice(0, per), { bursts: 1 });

    daemon = startDaemon(['--config', configPath]);
    await sleep(500);
    if (daemon.status()) {
      assert.fail(`kinship exited at start-up: ${JSON.stringify(daemon.status())}\n${tailOf(daemon.stderr())}`);
    }
    await appendInBursts(logFile, lines.slice(per), { bursts: BURSTS - 1, pauseMs: 200 });

    // Wait until all lines arrived (or the time is up).
    const deadline = Date.now() + DELIVERY_TIMEOUT_MS;
    let records = [];
    for (;;) {
      records = await kc.readAll(STREAM);
      if (records.length >= LINES) break;
      if (daemon.status()) {
        assert.fail(`kinship exited early (${JSON.stringify(daemon.status())}) after ${records.length}/${LINES} ` +
          `records:\n${tailOf(daemon.stderr())}`);
      }
      if (Date.now() > deadline) break;
      await sleep(1000);
    }
    // A moment more, so that late duplicates would show up too.
    await sleep(1000);
    records = await kc.readAll(STREAM);
    t.diagnostic(`${records.length} records read for ${LINES} lines (${JSON.stringify(kinds)})`);

    // Every record is one of our lines, byte for byte, and arrived once.
    const seen = new Map();
    const unknown = [];
    const badKeys = [];
    const wrongShard = [];
    for (const r of records) {
      const text = r.data.toString('utf8');
      const expected = byLine.get(text);
      if (!expected || !Buffer.from(text, 'utf8').equals(r.data)) {
        unknown.push(text.slice(0, 120));
        continue;
      }
      seen.set(text, (seen.get(text) ?? 0) + 1);
      const key = r.partitionKey;
      if (expected.kind === 'json') {
        if (key !== `${expected.service}-${expected.host}`) badKeys.push({ seq: expected.seq, key });
      } else if (expected.kind === 'longkey') {
        if (key !== expected.key) badKeys.push({ seq: expected.seq, kind: expected.kind, key });
      } else if (typeof key !== 'string' || key.length === 0 || key.length > 256) {
        badKeys.push({ seq: expected.seq, kind: expected.kind, key });
      }
      const h = md5Hash128(key);
      if (h < r.startingHashKey || h > r.endingHashKey) {
        wrongShard.push({ seq: expected.seq, key, shard: r.shardId });
      }
    }
    const missing = lines.filter((l) => !seen.has(l.line)).map((l) => l.seq);
    const duplicated = [...seen].filter(([, n]) => n > 1).map(([line, n]) => ({ seq: byLine.get(line).seq, n }));

    if (missing.length || unknown.length || duplicated.length) {
      failed = true;
      console.error(`# kinship stderr (tail):\n${tailOf(daemon.stderr())}`);
    }
    assert.deepEqual(unknown, [], `records that are not lines we wrote (or altered): ${sample(unknown)}`);
    assert.equal(missing.length, 0, `${missing.length} of ${LINES} lines never arrived, e.g. seq ${sample(missing)}`);
    assert.equal(duplicated.length, 0, `lines delivered more than once: ${sample(duplicated)}`);
    assert.equal(records.length, LINES);
    assert.deepEqual(badKeys, [], `wrong partition keys: ${sample(badKeys)}`);
    assert.deepEqual(wrongShard, [], `records in the wrong shard: ${sample(wrongShard)}`);

    // Keys of lines without a host (and of non-JSON lines) are random; only
    // reported, since how random is up to the daemon.
    const randomKeys = new Set(records
      .filter((r) => ['raw', 'nohost'].includes(byLine.get(r.data.toString('utf8'))?.kind))
      .map((r) => r.partitionKey));
    t.diagnostic(`${randomKeys.size} distinct keys for ${kinds.raw + kinds.nohost} lines without service/host`);

    // SIGTERM: a clean exit, code 0, within 10 s.
    const stopped = await daemon.stop('SIGTERM', 10000);
    if (stopped.timedOut || stopped.code !== 0) {
      console.error(`# kinship stderr (tail):\n${tailOf(daemon.stderr())}`);
    }
    assert.equal(stopped.timedOut, false, 'kinship did not exit within 10 s of SIGTERM');
    assert.equal(stopped.signal, null, `kinship died of signal ${stopped.signal}`);
    assert.equal(stopped.code, 0, 'kinship exit code after SIGTERM');
  } catch (e) {
    failed = true;
    throw e;
  }
});
