// The command line: --version, --help, --print-schema, --check-config (valid,
// unknown key with its line, missing file) and --config with a bad sink type.
//
// Run by ctest as `node cli.test.mjs` with KINSHIP_BIN set; by hand:
// KINSHIP_BIN=build/kinship node tests/integration/cli.test.mjs

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';

import { runKinship, makeTempDir } from '../support/daemon.mjs';

const tmp = makeTempDir('kinship-cli-');
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

function write(name, lines) {
  const file = path.join(tmp, name);
  fs.writeFileSync(file, lines.join('\n') + '\n');
  return file;
}

function nonEmptyLines(text) {
  return text.split('\n').filter((l) => l.trim() !== '');
}

function show(r) {
  return `exit ${r.code} signal ${r.signal}${r.timedOut ? ' (timed out)' : ''}\n` +
    `--- stdout:\n${r.stdout}\n--- stderr:\n${r.stderr}`;
}

// A valid config; `sinkType` and extra top-level lines can be changed.
function config({ extraTop = [], sinkType = 'kinesis', sinkExtra = [] } = {}) {
  return [
    '# kinship test config',
    `data_dir: ${JSON.stringify(path.join(tmp, 'state'))}`,
    ...extraTop,
    'pipelines:',
    '  app:',
    '    inputs:',
    '      - type: file',
    `        paths: [${JSON.stringify(path.join(tmp, 'in', '*.log'))}]`,
    '        start_at: beginning',
    '        parser: json',
    '    partition_key: "{service}-{host}"',
    '    sink:',
    `      type: ${sinkType}`,
    '      stream: cli-test',
    '      region: us-east-1',
    '      endpoint: http://127.0.0.1:9',
    ...sinkExtra,
    'admin:',
    '  listen: "127.0.0.1:0"',
  ];
}

test('--version prints a version and exits 0', async () => {
  const r = await runKinship(['--version']);
  assert.equal(r.code, 0, show(r));
  assert.match(r.stdout + r.stderr, /\d+\.\d+\.\d+/, show(r));
});

test('--help exits 0 and describes the options', async () => {
  const r = await runKinship(['--help']);
  assert.equal(r.code, 0, show(r));
  assert.match(r.stdout + r.stderr, /--config/, show(r));
});

test('--print-schema exits 0 and prints the option reference', async () => {
  const r = await runKinship(['--print-schema']);
  assert.equal(r.code, 0, show(r));
  assert.match(r.stdout, /data_dir/, show(r));
});

test('--check-config accepts a valid file and prints one line', async () => {
  const file = write('valid.yaml', config());
  const r = await runKinship(['--check-config', file]);
  assert.equal(r.code, 0, show(r));
  assert.equal(nonEmptyLines(r.stdout + r.stderr).length, 1, show(r));
});

test('--check-config rejects an unknown key, naming file, line and key', async () => {
  const file = write('unknown-key.yaml', config({ extraTop: ['not_an_option: 42'] }));
  assert.match(fs.readFileSync(file, 'utf8').split('\n')[2], /^not_an_option:/);
  const r = await runKinship(['--check-config', file]);
  assert.notEqual(r.code, 0, show(r));
  assert.equal(r.timedOut, false, show(r));
  assert.ok(r.stderr.includes(file), `stderr names the file\n${show(r)}`);
  assert.ok(r.stderr.includes(':3:'), `stderr names line 3\n${show(r)}`);
  assert.ok(r.stderr.includes('not_an_option'), `stderr names the key\n${show(r)}`);
});

test('--check-config rejects an unknown key inside the sink, at its line', async () => {
  const lines = config({ sinkExtra: ['      strem: typo'] });
  const line = lines.indexOf('      strem: typo') + 1;
  const file = write('unknown-sink-key.yaml', lines);
  const r = await runKinship(['--check-config', file]);
  assert.notEqual(r.code, 0, show(r));
  assert.ok(r.stderr.includes(`:${line}:`), `stderr names line ${line}\n${show(r)}`);
  assert.ok(r.stderr.includes('strem'), `stderr names the key\n${show(r)}`);
});

test('--check-config refuses two pipelines sharing one spool directory, at the second one\'s line', async () => {
  const spoolDir = path.join(tmp, 'shared-spool');
  const lines = [
    `data_dir: ${JSON.stringify(path.join(tmp, 'state'))}`,
    'pipelines:',
    '  first:',
    '    inputs: [{type: udp, listen: "127.0.0.1:0"}]',
    `    spool: {dir: ${JSON.stringify(spoolDir)}}`,
    '    sink: {type: discard}',
    '  second:',
    '    inputs: [{type: udp, listen: "127.0.0.1:0"}]',
    `    spool: {dir: ${JSON.stringify(spoolDir + '/')}}`,
    '    sink: {type: discard}',
  ];
  const file = write('shared-spool.yaml', lines);
  const r = await runKinship(['--check-config', file]);
  assert.equal(r.code, 1, show(r));
  assert.ok(r.stderr.includes(`${file}:9:`), `stderr names line 9\n${show(r)}`);
  assert.ok(r.stderr.includes('pipelines.second.spool.dir'), show(r));
  assert.ok(r.stderr.includes('already the spool of pipeline first'), show(r));
});

test('--check-config on a missing file fails naming it', async () => {
  const r = await runKinship(['--check-config', '/nonexistent.yaml']);
  assert.notEqual(r.code, 0, show(r));
  assert.equal(r.timedOut, false, show(r));
  assert.ok(r.stderr.includes('/nonexistent.yaml'), `stderr names the file\n${show(r)}`);
});

test('--config with an unknown sink type exits non-zero', async () => {
  const file = write('bad-sink.yaml', config({ sinkType: 'carrier_pigeon' }));
  const r = await runKinship(['--config', file], { timeoutMs: 10000 });
  assert.equal(r.timedOut, false, `kinship kept running with an unknown sink type\n${show(r)}`);
  assert.notEqual(r.code, 0, show(r));
  assert.ok(r.stderr.includes('carrier_pigeon'), `stderr names the sink type\n${show(r)}`);
});
