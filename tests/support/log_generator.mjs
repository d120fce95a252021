// Generates JSON log lines, for the demo and the integration tests.
//
// CLI: node tests/support/log_generator.mjs --file F [--rate N] [--seconds S]
//   appends about N lines per second (default 20) to F for S seconds
//   (default 0 = until SIGTERM/SIGINT). Each line is one JSON object:
//   {"time":"...","service":"checkout","host":"web-1","level":"info","seq":1,"msg":"..."}
//
// Library:
//   makeJsonLine(seq, {service, host, ...}) -> a line without its newline
//   generateLines(count, options)            -> unique test lines (mixed kinds)
//   appendInBursts(file, lines, options)     -> appends them in bursts with pauses
//   writeNumberedLines(file, count, options) -> writes `count` lines whose "seq" field
//                                               (a string, the partition key in the crash
//                                               tests) counts from 0

import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const SERVICES = ['checkout', 'payments', 'search'];
export const HOSTS = ['web-1', 'web-2'];
const LEVELS = ['debug', 'info', 'info', 'info', 'warn', 'error'];
const MESSAGES = [
  'request served',
  'cache miss',
  'payment authorised',
  'slow upstream',
  'user logged in',
  'retrying request',
];

/**
 * Writes `count` lines {"seq":"N","service":"checkout","msg":"x…"} to `file`
 * (replacing it), in chunks; `seqWidth` zero-pads N, `padBytes` sizes msg.
 */
export function writeNumberedLines(file, count, { padBytes = 60, seqWidth = 0 } = {}) {
  const fd = fs.openSync(file, 'w');
  const pad = 'x'.repeat(padBytes);
  for (let from = 0; from < count; from += 10000) {
    let chunk = '';
    for (let i = from; i < Math.min(count, from + 10000); i++) {
      chunk += `{"seq":"${String(i).padStart(seqWidth, '0')}","service":"checkout","msg":"${pad}"}\n`;
    }
    fs.writeSync(fd, chunk);
  }
  fs.closeSync(fd);
}

/** One JSON log line (no trailing newline). */
export function makeJsonLine(seq, fields = {}) {
  const service = fields.service ?? SERVICES[seq % SERVICES.length];
  const host = fields.host ?? HOSTS[Math.floor(seq / SERVICES.length) % HOSTS.length];
  const obj = {
    time: fields.time ?? new Date().toISOString(),
    service,
    host,
    level: fields.level ?? LEVELS[seq % LEVELS.length],
    seq,
    msg: fields.msg ?? `${MESSAGES[seq % MESSAGES.length]} #${seq}`,
  };
  for (const [k, v] of Object.entries(fields)) if (!(k in obj)) obj[k] = v;
  if (fields.host === null) delete obj.host;
  return JSON.stringify(obj);
}

/**
 * `count` unique lines for tests. Kinds (by seq):
 *  - most: JSON with service/host over SERVICES x HOSTS (6 combinations);
 *  - every 97th: JSON with non-ASCII UTF-8 text ("café", "Grüße", "日本語", emoji);
 *  - every 89th: JSON with a nested object;
 *  - every 1000th (offset 500): not JSON at all;
 *  - every 1000th (offset 250): JSON without "host".
 * Returns [{line, seq, kind: 'json'|'nohost'|'raw', service?, host?}].
 */
export function generateLines(count, { startSeq = 0, runId = '' } = {}) {
  const out = [];
  for (let i = 0; i < count; i++) {
    const seq = startSeq + i;
    const service = SERVICES[seq % SERVICES.length];
    const host = HOSTS[Math.floor(seq / SERVICES.length) % HOSTS.length];
    const run = runId ? { run: runId } : {};
    if (seq % 1000 === 500) {
      out.push({ seq, kind: 'raw', line: `plain text line ${runId} seq=${seq} — not JSON {` });
    } else if (seq % 1000 === 250) {
      out.push({ seq, kind: 'nohost', service,
        line: makeJsonLine(seq, { service, host: null, msg: `no host here #${seq}`, ...run }) });
    } else if (seq % 97 === 0) {
      out.push({ seq, kind: 'json', service, host,
        line: makeJsonLine(seq, { service, host, msg: `café Grüße 日本語 🚀 #${seq}`, ...run }) });
    } else if (seq % 89 === 0) {
      out.push({ seq, kind: 'json', service, host,
        line: makeJsonLine(seq, { service, host, ...run,
          ctx: { user: { id: seq, name: 'zoë' }, tags: ['a', 'b'], ok: true, ratio: 0.5 } }) });
    } else {
      out.push({ seq, kind: 'json', service, host, line: makeJsonLine(seq, { service, host, ...run }) });
    }
  }
  return out;
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * Appends lines (strings or {line}) to `file` in `bursts` roughly equal
 * writes, each a single append, with `pauseMs` between them.
 */
export async function appendInBursts(file, lines, { bursts = 8, pauseMs = 150 } = {}) {
  await fsp.mkdir(path.dirname(file), { recursive: true });
  const texts = lines.map((l) => (typeof l === 'string' ? l : l.line));
  const per = Math.ceil(texts.length / bursts);
  for (let b = 0; b < bursts; b++) {
    const chunk = texts.slice(b * per, (b + 1) * per);
    if (chunk.length === 0) break;
    await fsp.appendFile(file, chunk.map((t) => t + '\n').join(''));
    if (b < bursts - 1) await sleep(pauseMs);
  }
}

function parseArgs(argv) {
  const o = { file: '', rate: 20, seconds: 0 };
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] = argv[i].split(/=(.*)/s, 2);
    const value = () => (inline !== undefined ? inline : argv[++i]);
    switch (flag) {
      case '--file': o.file = value(); break;
      case '--rate': o.rate = Number(value()); break;
      case '--seconds': o.seconds = Number(value()); break;
      case '-h': case '--help':
        console.log('usage: node log_generator.mjs --file F [--rate LINES_PER_S] [--seconds S (0 = forever)]');
        process.exit(0);
        break;
      default:
        console.error(`log_generator: unknown argument ${argv[i]}`);
        process.exit(2);
    }
  }
  if (!o.file || !(o.rate > 0) || !(o.seconds >= 0)) {
    console.error('usage: node log_generator.mjs --file F [--rate LINES_PER_S] [--seconds S (0 = forever)]');
    process.exit(2);
  }
  return o;
}

async function main() {
  const o = parseArgs(process.argv.slice(2));
  fs.mkdirSync(path.dirname(path.resolve(o.file)), { recursive: true });
  const fd = fs.openSync(o.file, 'a');
  let stopping = false;
  process.once('SIGTERM', () => { stopping = true; });
  process.once('SIGINT', () => { stopping = true; });
  const start = Date.now();
  const tickMs = 100;
  let seq = 0;
  while (!stopping && (o.seconds === 0 || Date.now() - start < o.seconds * 1000)) {
    // Catch up to the target count for the elapsed time, then sleep a tick.
    const due = Math.floor(((Date.now() - start) / 1000) * o.rate) + 1;
    let text = '';
    while (seq < due) text += makeJsonLine(seq++) + '\n';
    if (text) fs.writeSync(fd, text);
    await sleep(tickMs);
  }
  fs.closeSync(fd);
  console.error(`log_generator: wrote ${seq} lines to ${o.file}`);
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  await main();
}
