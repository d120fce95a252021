// Reads a Kinesis stream for a while and prints each record as it arrives:
//
//   shardId  partitionKey  data
//
// then a summary of records per shard.
//
// usage: node tests/support/read_stream.mjs --endpoint http://127.0.0.1:4567 --stream demo
//          [--seconds 10] [--latest] [--min-records N] [--quiet]
//
// --latest starts at the end of each shard (only new records) instead of
// TRIM_HORIZON. Exits 0 when at least --min-records records (default 0) were
// read, 3 when fewer, 1 on errors, 2 on bad arguments.

import { KinesisClient } from './kinesis_client.mjs';

function usage(code) {
  const text =
    'usage: node read_stream.mjs --endpoint URL --stream NAME [--seconds N] [--latest]\n' +
    '                            [--min-records N] [--quiet]';
  (code === 0 ? console.log : console.error)(text);
  process.exit(code);
}

function parseArgs(argv) {
  const o = { endpoint: '', stream: '', seconds: 10, latest: false, minRecords: 0, quiet: false };
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] = argv[i].split(/=(.*)/s, 2);
    const value = () => (inline !== undefined ? inline : argv[++i]);
    switch (flag) {
      case '--endpoint': o.endpoint = value(); break;
      case '--stream': o.stream = value(); break;
      case '--seconds': o.seconds = Number(value()); break;
      case '--min-records': o.minRecords = Number(value()); break;
      case '--latest': o.latest = true; break;
      case '--quiet': o.quiet = true; break;
      case '-h': case '--help': usage(0); break;
      default: console.error(`read_stream: unknown argument ${argv[i]}`); usage(2);
    }
  }
  if (!o.endpoint || !o.stream || !(o.seconds >= 0) || !(o.minRecords >= 0)) usage(2);
  return o;
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// Printable form of the data: text as is, with control characters escaped.
function show(buf) {
  return buf.toString('utf8').replace(/[\x00-\x1f\x7f]/g, (c) =>
    c === '\t' ? '\\t' : c === '\n' ? '\\n' : `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

async function main() {
  const o = parseArgs(process.argv.slice(2));
  const kc = new KinesisClient(o.endpoint, { timeoutMs: 10000 });
  const deadline = Date.now() + o.seconds * 1000;
  const counts = new Map();
  const iterators = new Map(); // shardId -> iterator
  let total = 0;

  const refreshShards = async () => {
    for (const s of await kc.listShards(o.stream)) {
      if (!counts.has(s.ShardId)) counts.set(s.ShardId, 0);
      if (!iterators.has(s.ShardId)) {
        iterators.set(s.ShardId, await kc.shardIterator(o.stream, s.ShardId, o.latest ? 'LATEST' : 'TRIM_HORIZON'));
      }
    }
  };

  let stopping = false;
  process.once('SIGINT', () => { stopping = true; });
  process.once('SIGTERM', () => { stopping = true; });

  await refreshShards();
  let lastRefresh = Date.now();
  do {
    let got = 0;
    for (const [shardId, it] of iterators) {
      if (!it) continue;
      const r = await kc.call('GetRecords', { ShardIterator: it, Limit: 1000 });
      iterators.set(shardId, r.NextShardIterator ?? null);
      for (const rec of r.Records ?? []) {
        got++;
        total++;
        counts.set(shardId, counts.get(shardId) + 1);
        if (!o.quiet) console.log(`${shardId}  ${rec.PartitionKey}  ${show(Buffer.from(rec.Data, 'base64'))}`);
      }
    }
    if (Date.now() - lastRefresh > 5000) {
      await refreshShards();
      lastRefresh = Date.now();
    }
    if (got === 0 && Date.now() < deadline) await sleep(Math.min(250, Math.max(0, deadline - Date.now())));
  } while (Date.now() < deadline && !stopping);

  console.log(`--- ${o.stream}: ${total} records in ${o.seconds} s`);
  for (const [shardId, n] of [...counts].sort()) console.log(`${shardId}: ${n} records`);
  if (total < o.minRecords) {
    console.error(`read_stream: expected at least ${o.minRecords} records, read ${total}`);
    process.exit(3);
  }
}

main().catch((e) => {
  console.error(`read_stream: ${e.message}`);
  process.exit(1);
});
