// Two daemons with one data_dir (a kinship@ instance pointed at the main
// one's state, a copy-pasted config) would deliver and delete each other's
// spooled records: the second one refuses to start, exit 1, naming the
// directory, and the first runs on. Once the first has stopped (or was
// killed: the kernel drops the lock), the same config starts.
//
// Run by ctest with KINSHIP_BIN set.

import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';

import { makeTempDir, runKinship, show, startDaemon, tailOf, waitFor } from '../support/daemon.mjs';

const tmp = makeTempDir('kinship-lock-');
const daemons = [];
after(async () => {
  for (const d of daemons) await d.kill();
  fs.rmSync(tmp, { recursive: true, force: true });
});

test('a second daemon on the same data_dir is refused while the first runs', async () => {
  fs.mkdirSync(path.join(tmp, 'in'));
  const config = path.join(tmp, 'kinship.yaml');
  fs.writeFileSync(config, [
    `data_dir: ${JSON.stringify(path.join(tmp, 'state'))}`,
    'pipelines:',
    '  app:',
    '    inputs:',
    '      - type: file',
    `        paths: [${JSON.stringify(path.join(tmp, 'in', '*.log'))}]`,
    '    sink: { type: discard }',
    'admin: { listen: "" }',
    '',
  ].join('\n'));
  const first = startDaemon(['--config', config]);
  daemons.push(first);
  await waitFor(() => {
    if (first.status()) throw new Error(`the first daemon exited:\n${tailOf(first.stderr())}`);
    return /kinship \S+ running/.test(first.stderr());
  }, { what: 'the first daemon to run' });

  const second = await runKinship(['--config', config], { timeoutMs: 15000 });
  assert.equal(second.code, 1, show(second));
  assert.match(second.stderr, /spool directory .*state\/spool\/app is in use by another process/, show(second));
  assert.equal(first.status(), null, 'the first daemon still runs');

  await first.stop('SIGKILL');
  const third = startDaemon(['--config', config]);
  daemons.push(third);
  await waitFor(() => {
    if (third.status()) throw new Error(`the restarted daemon exited:\n${tailOf(third.stderr())}`);
    return /kinship \S+ running/.test(third.stderr());
  }, { what: 'a daemon to start once the first was killed' });
  const stopped = await third.stop('SIGTERM');
  assert.equal(stopped.code, 0, tailOf(third.stderr()));
});
