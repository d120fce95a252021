// Signals other than SIGTERM/SIGINT (issue 12): SIGHUP killed the daemon on
// the spot, with no log line and no flush. Now SIGHUP reloads the
// configuration (reload.test.mjs covers what a reload changes; here, an
// unchanged file reloads as a no-op, twice) and SIGUSR1 and SIGUSR2 are
// logged and ignored: the daemon keeps serving /healthz, and a later SIGTERM
// still shuts it down cleanly (exit 0).
//
// Run by ctest as `node signals.test.mjs` with KINSHIP_BIN set; by hand:
// KINSHIP_BIN=build/kinship node tests/integration/signals.test.mjs

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';

import { makeTempDir, startDaemon, tailOf, waitFor } from '../support/daemon.mjs';
import { adminUrl } from '../support/metrics.mjs';

const tmp = makeTempDir('kinship-signals-');
const daemons = [];
after(async () => {
  for (const d of daemons) await d.kill();
  fs.rmSync(tmp, { recursive: true, force: true });
});

function startWithConfig() {
  fs.mkdirSync(path.join(tmp, 'in'), { recursive: true });
  const config = path.join(tmp, 'kinship.yaml');
  fs.writeFileSync(config, [
    `data_dir: ${JSON.stringify(path.join(tmp, 'state'))}`,
    'pipelines:',
    '  app:',
    '    inputs:',
    '      - type: file',
    `        paths: [${JSON.stringify(path.join(tmp, 'in', '*.log'))}]`,
    '    sink:',
    '      type: discard',
    'admin:',
    '  listen: "127.0.0.1:0"',
    '',
  ].join('\n'));
  const daemon = startDaemon(['--config', config]);
  daemons.push(daemon);
  return daemon;
}

// Waits for `pattern` in the daemon's log; fails at once if it exits.
function waitForLog(daemon, pattern, what) {
  return waitFor(
    () => {
      const status = daemon.status();
      if (status) throw new Error(`kinship exited while waiting for ${what} (${JSON.stringify(status)}):\n${tailOf(daemon.stderr())}`);
      return pattern.test(daemon.stderr());
    },
    { what, timeoutMs: 5000, intervalMs: 20 },
  );
}

test('SIGHUP reloads, SIGUSR1 and SIGUSR2 are logged and ignored; SIGTERM then exits 0', async () => {
  const daemon = startWithConfig();
  const admin = await adminUrl(daemon);
  assert.equal((await fetch(`${admin}/healthz`)).status, 200, tailOf(daemon.stderr()));

  daemon.proc.kill('SIGHUP');
  await waitForLog(daemon, /received SIGHUP: reloading [^]*reload: 1 unchanged \(app\), 0 added, 0 removed, 0 changed[^]*reload done/,
    'the SIGHUP log lines');
  assert.equal(daemon.status(), null, 'still running after SIGHUP');
  assert.equal((await fetch(`${admin}/healthz`)).status, 200, 'healthz after SIGHUP');

  // A second one too: the handler re-arms.
  daemon.proc.kill('SIGHUP');
  await waitForLog(daemon, /reload done[^]*reload done/, 'the second reload');

  for (const signal of ['SIGUSR1', 'SIGUSR2']) {
    daemon.proc.kill(signal);
    await waitForLog(daemon, new RegExp(`received ${signal}: ignored`), `the ${signal} log line`);
  }
  assert.equal((await fetch(`${admin}/healthz`)).status, 200, 'healthz after SIGUSR1 and SIGUSR2');

  const r = await daemon.stop('SIGTERM', 10000);
  assert.deepEqual({ code: r.code, signal: r.signal, timedOut: r.timedOut }, { code: 0, signal: null, timedOut: false },
    tailOf(daemon.stderr()));
  assert.match(daemon.stderr(), /received SIGTERM/);
});
