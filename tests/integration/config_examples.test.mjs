// The ready configs: every file in config/examples/ and the kinship config
// embedded in every ConfigMap under deploy/kubernetes/ passes --check-config,
// also when the paths it names do not exist (as on a fresh host); each
// embedded config equals the example its comment names; and every ${VAR}
// without a default in it is set by its manifest.
//
// Run by ctest as `node config_examples.test.mjs` with KINSHIP_BIN set; by hand:
// KINSHIP_BIN=build/kinship node tests/integration/config_examples.test.mjs

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';

import { runKinship, makeTempDir, repoDir, show } from '../support/daemon.mjs';

const examplesDir = path.join(repoDir, 'config', 'examples');
const manifestsDir = path.join(repoDir, 'deploy', 'kubernetes');
const tmp = makeTempDir('kinship-examples-');
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

// What the manifests set from the downward API and their env lists.
const podEnv = { POD_NAME: 'app-7d9f8-x2x4q' };

function yamlFiles(dir) {
  return fs.readdirSync(dir).filter((f) => f.endsWith('.yaml')).sort();
}

async function assertAccepted(file, label) {
  const r = await runKinship(['--check-config', file], { env: podEnv });
  assert.equal(r.code, 0, `${label}: --check-config failed\n${show(r)}`);
  assert.match(r.stdout, /^config OK: /, `${label}\n${show(r)}`);
}

function writeTemp(name, text) {
  const file = path.join(tmp, name);
  fs.writeFileSync(file, text);
  return file;
}

// The config with every absolute path under /var, /run or /etc moved under a
// directory that does not exist, so no test depends on what this machine has.
function withMissingPaths(text) {
  const missing = path.join(tmp, 'does-not-exist');
  return text.replace(/(?<=[\s"'[])\/(?=(var|run|etc)\/)/g, `${missing}/`);
}

// `kinship.yaml: |` blocks of a manifest, each with the config/examples/ file
// named by the comment before it. A block ends at the first non-blank line
// indented no deeper than its key; its own indentation is that of its first
// line, as YAML reads a block scalar (we write no indentation indicator).
function embeddedConfigs(manifestText) {
  const lines = manifestText.split('\n');
  const indentOf = (l) => l.match(/^ */)[0].length;
  const blocks = [];
  let source = null;
  for (let i = 0; i < lines.length; i++) {
    const named = lines[i].match(/^ *# (config\/examples\/[A-Za-z0-9_.-]+\.yaml)\b/);
    if (named) source = named[1];
    if (!/^ *kinship\.yaml: \|$/.test(lines[i])) continue;
    const keyIndent = indentOf(lines[i]);
    const body = [];
    let j = i + 1;
    for (; j < lines.length; j++) {
      if (lines[j].trim() !== '' && indentOf(lines[j]) <= keyIndent) break;
      body.push(lines[j]);
    }
    while (body.length > 0 && body[body.length - 1].trim() === '') body.pop();
    const first = body.find((l) => l.trim() !== '');
    const indent = first === undefined ? 0 : indentOf(first);
    blocks.push({ line: i + 1, source, text: body.map((l) => l.slice(indent)).join('\n') + '\n' });
    source = null;
    i = j - 1;
  }
  return blocks;
}

const examples = yamlFiles(examplesDir);
const manifests = yamlFiles(manifestsDir);

test('the ready configs the docs and packages name are there', () => {
  for (const name of ['demo.yaml', 'systemd-host.yaml', 'kubernetes-sidecar.yaml', 'kubernetes-daemonset.yaml',
    'unix-syslog.yaml', 'udp.yaml']) {
    assert.ok(examples.includes(name), `config/examples/${name} is missing (found: ${examples.join(', ')})`);
  }
  for (const name of ['sidecar.yaml', 'native-sidecar.yaml', 'daemonset.yaml']) {
    assert.ok(manifests.includes(name), `deploy/kubernetes/${name} is missing (found: ${manifests.join(', ')})`);
  }
});

for (const name of examples) {
  test(`config/examples/${name} passes --check-config`, async () => {
    await assertAccepted(path.join(examplesDir, name), `config/examples/${name}`);
  });

  test(`config/examples/${name} passes --check-config when its paths do not exist`, async () => {
    const text = fs.readFileSync(path.join(examplesDir, name), 'utf8');
    await assertAccepted(writeTemp(`missing-paths-${name}`, withMissingPaths(text)), `config/examples/${name} (paths moved)`);
  });
}

for (const manifest of manifests) {
  const text = fs.readFileSync(path.join(manifestsDir, manifest), 'utf8');
  const blocks = embeddedConfigs(text);
  if (!/^kind: ConfigMap$/m.test(text)) continue;

  test(`deploy/kubernetes/${manifest}: each ConfigMap's kinship.yaml passes --check-config`, async () => {
    assert.ok(blocks.length > 0, `deploy/kubernetes/${manifest} has a ConfigMap but no "kinship.yaml: |" block`);
    for (const block of blocks) {
      const label = `deploy/kubernetes/${manifest}:${block.line}`;
      await assertAccepted(writeTemp(`${manifest}-${block.line}.yaml`, block.text), label);
      await assertAccepted(writeTemp(`${manifest}-${block.line}-missing.yaml`, withMissingPaths(block.text)),
        `${label} (paths moved)`);
    }
  });

  test(`deploy/kubernetes/${manifest}: each ConfigMap's kinship.yaml equals the example it names`, () => {
    for (const block of blocks) {
      const label = `deploy/kubernetes/${manifest}:${block.line}`;
      assert.ok(block.source, `${label}: no "# config/examples/<name>.yaml" comment before the block`);
      const example = fs.readFileSync(path.join(repoDir, block.source), 'utf8');
      assert.equal(block.text, example,
        `${label} differs from ${block.source}: run bash deploy/kubernetes/embed-configs.sh`);
    }
  });

  test(`deploy/kubernetes/${manifest}: every \${VAR} without a default is set in the manifest`, () => {
    for (const block of blocks) {
      // YAML comments start at a # after a blank (our configs quote no " #").
      const values = block.text.split('\n').map((l) => l.replace(/(^|\s)#.*$/, '')).join('\n');
      for (const [, name] of values.matchAll(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g)) {
        assert.match(text, new RegExp(`^ *- name: ${name}\\b`, 'm'),
          `deploy/kubernetes/${manifest}:${block.line} uses \${${name}} but no container env sets ${name}`);
      }
    }
  });
}

// The examples leave the region to the environment, the AWS profile or (at
// start) the EC2 metadata service, which --check-config does not ask (should
// it, it would find a closed port on 127.0.0.1). KinesisSink's constructor
// used to take the Host header from the endpoint that is still empty then
// (substr past npos), and --check-config aborted with std::out_of_range.
test('the examples pass --check-config with no region in the environment', async () => {
    const noRegion = {
      ...podEnv,
      AWS_REGION: undefined,
      AWS_DEFAULT_REGION: undefined,
      AWS_PROFILE: undefined,
      AWS_EC2_METADATA_DISABLED: undefined,
      AWS_EC2_METADATA_SERVICE_ENDPOINT: 'http://127.0.0.1:9',
      AWS_CONFIG_FILE: path.join(tmp, 'no-aws-config'),
      AWS_SHARED_CREDENTIALS_FILE: path.join(tmp, 'no-aws-credentials'),
    };
    for (const name of examples) {
      const text = fs.readFileSync(path.join(examplesDir, name), 'utf8');
      if (/^\s*region:/m.test(text)) continue;
      const r = await runKinship(['--check-config', path.join(examplesDir, name)], { env: noRegion });
      assert.equal(r.code, 0, `config/examples/${name}\n${show(r)}`);
    }
  });

// The checks above can fail: a broken copy of an example is refused.
test('a broken example is refused', async () => {
  const text = fs.readFileSync(path.join(examplesDir, 'systemd-host.yaml'), 'utf8');
  const broken = text.replace('parser: json', 'parser: jsn');
  assert.notEqual(broken, text, 'systemd-host.yaml no longer says "parser: json": pick another line to break');
  const file = writeTemp('broken.yaml', broken);
  const r = await runKinship(['--check-config', file], { env: podEnv });
  assert.equal(r.code, 1, show(r));
  assert.match(r.stderr, /parser/, show(r));
});

test('the block extraction reads a ConfigMap as YAML does', () => {
  const manifest = [
    'data:',
    '  # config/examples/x.yaml',
    '  kinship.yaml: |',
    '    a: 1',
    '',
    '    b:',
    '      c: 2',
    '',
    '  other: x',
    '---',
  ].join('\n');
  assert.deepEqual(embeddedConfigs(manifest),
    [{ line: 3, source: 'config/examples/x.yaml', text: 'a: 1\n\nb:\n  c: 2\n' }]);
});
