// The command line: --version, --help, --print-schema, --check-config (valid,
// unknown key with its line, what the run would refuse, missing file) and
// --config with a bad sink type.
//
// Run by ctest as `node cli.test.mjs` with KINSHIP_BIN set; by hand:
// KINSHIP_BIN=build/kinship node tests/integration/cli.test.mjs

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';

import { runKinship, makeTempDir, show } from '../support/daemon.mjs';

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

// What the run refuses, --check-config refuses too: exit 1 naming the file,
// the line and the option (these used to print "config OK").
function checkRefuses(name, lines, { line, option, message }) {
  test(`--check-config refuses ${name}`, async () => {
    const file = write(`refuse-${name.replace(/[^a-z0-9]+/gi, '-')}.yaml`, lines);
    const r = await runKinship(['--check-config', file], { env: { AWS_ACCESS_KEY_ID: 'x', AWS_SECRET_ACCESS_KEY: 'y' } });
    assert.equal(r.code, 1, show(r));
    assert.equal(r.stdout, '', show(r));
    if (line !== undefined) assert.ok(r.stderr.includes(`${file}:${line}:`), `stderr names line ${line}\n${show(r)}`);
    assert.ok(r.stderr.includes(option), `stderr names ${option}\n${show(r)}`);
    if (message) assert.match(r.stderr, message, show(r));
  });
}

// One UDP input and a discard sink; `pipelineExtra` goes into the pipeline.
function udpConfig({ top = [], listen = '127.0.0.1:0', pipelineExtra = [], sink = ['    sink: {type: discard}'] } = {}) {
  return [
    `data_dir: ${JSON.stringify(path.join(tmp, 'state'))}`,
    ...top,
    'pipelines:',
    '  app:',
    `    inputs: [{type: udp, listen: ${JSON.stringify(listen)}}]`,
    ...sink,
    ...pipelineExtra,
  ];
}

function kinesisSink(extra) {
  return ['    sink:', '      type: kinesis', '      stream: s', '      region: us-east-1', ...extra];
}

checkRefuses('an admin listen address without a port', udpConfig({ top: ['admin: {listen: garbage}'] }),
  { line: 2, option: 'admin.listen', message: /missing port/ });
checkRefuses('an admin listen port above 65535', udpConfig({ top: ['admin: {listen: "127.0.0.1:70000"}'] }),
  { line: 2, option: 'admin.listen', message: /70000/ });
checkRefuses('a dead_letter_path in a missing directory',
  udpConfig({ sink: kinesisSink([`      dead_letter_path: ${JSON.stringify(path.join(tmp, 'no-such-dir', 'dead.jsonl'))}`]) }),
  { line: 9, option: 'pipelines.app.sink.dead_letter_path', message: /does not exist/ });
for (const endpoint of ['http://x:abc', 'http://x:99999', 'http://a b']) {
  checkRefuses(`the endpoint ${endpoint}`, udpConfig({ sink: kinesisSink([`      endpoint: "${endpoint}"`]) }),
    { line: 9, option: 'pipelines.app.sink.endpoint', message: new RegExp(endpoint) });
}
checkRefuses('two UDP inputs on one port in one pipeline', [
  `data_dir: ${JSON.stringify(path.join(tmp, 'state'))}`,
  'pipelines:',
  '  app:',
  '    inputs:',
  '      - {type: udp, listen: "127.0.0.1:45514"}',
  '      - {type: udp, listen: "127.0.0.1:45514"}',
  '    sink: {type: discard}',
], { line: 6, option: 'pipelines.app.inputs[1].listen', message: /UDP port 45514 on 127\.0\.0\.1 is already taken by pipelines\.app\.inputs\[0\]\.listen/ });
checkRefuses('two UDP inputs on one port across pipelines', [
  `data_dir: ${JSON.stringify(path.join(tmp, 'state'))}`,
  'pipelines:',
  '  first:',
  '    inputs: [{type: udp, listen: "0.0.0.0:45515"}]',
  '    sink: {type: discard}',
  `    spool: {dir: ${JSON.stringify(path.join(tmp, 'spool-first'))}}`,
  '  second:',
  '    inputs: [{type: udp, listen: "127.0.0.1:45515"}]',
  '    sink: {type: discard}',
  `    spool: {dir: ${JSON.stringify(path.join(tmp, 'spool-second'))}}`,
], { line: 8, option: 'pipelines.second.inputs[0].listen', message: /already taken by pipelines\.first\.inputs\[0\]\.listen/ });
checkRefuses('an empty data_dir', ['data_dir: ""', ...udpConfig().slice(1)],
  { line: 1, option: 'data_dir', message: /must not be empty/ });
checkRefuses('a NUL in a string', udpConfig({ pipelineExtra: ['    partition_key: "{host}\\0x"'] }),
  { line: 6, option: 'pipelines.app.partition_key', message: /NUL/ });
checkRefuses('an fsync interval that overflows a clock', udpConfig({ pipelineExtra: ['    spool: {fsync: 106751991167d}'] }),
  { line: 6, option: 'pipelines.app.spool.fsync' });
checkRefuses('${...} nested 30000 deep',
  udpConfig({ pipelineExtra: [`    partition_key: "${'${A:-'.repeat(30000)}x${'}'.repeat(30000)}"`] }),
  { line: 6, option: 'pipelines.app.partition_key', message: /more than 16 levels deep/ });
checkRefuses('YAML nested 1000 deep', udpConfig({ pipelineExtra: [`    partition_key: ${'['.repeat(1000)}${']'.repeat(1000)}`] }),
  { line: 6, option: 'nest too deeply' });

test('--check-config refuses /dev/zero without reading it all', async () => {
  const r = await runKinship(['--check-config', '/dev/zero']);
  assert.equal(r.code, 1, show(r));
  assert.ok(r.stderr.includes('/dev/zero: larger than 16 MiB'), show(r));
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
