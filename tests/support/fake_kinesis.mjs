// Starts the project's fake Kinesis endpoint (build/kinship-fake-kinesis) on
// 127.0.0.1 and talks to its control API (/_fake/...).

import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

import { repoDir } from './daemon.mjs';

export function fakeBin() {
  const bin = process.env.KINSHIP_FAKE_BIN || path.join(repoDir, 'build', 'kinship-fake-kinesis');
  if (!fs.existsSync(bin)) throw new Error(`fake endpoint not found at ${bin} (set KINSHIP_FAKE_BIN)`);
  return bin;
}

/** Starts the fake with CLI `args` (port 0); resolves to {url, stats(), post(), stop()}. */
export function startFake(args) {
  const proc = spawn(fakeBin(), ['--port', '0', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  proc.stderr.on('data', (c) => (stderr += c));
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`fake endpoint did not start: ${stderr}`)), 10000);
    proc.on('exit', (code) => reject(new Error(`fake endpoint exited (${code}): ${stderr}`)));
    proc.stdout.on('data', function onData(chunk) {
      out += chunk;
      const m = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(out);
      if (!m) return;
      clearTimeout(timer);
      proc.stdout.off('data', onData);
      proc.stdout.resume();
      const url = m[1];
      resolve({
        url,
        async stats() {
          const r = await fetch(`${url}/_fake/stats`);
          return r.json();
        },
        async post(what, body) {
          const r = await fetch(`${url}/_fake/${what}`, { method: 'POST', body: JSON.stringify(body) });
          if (!r.ok) throw new Error(`POST /_fake/${what}: ${r.status} ${await r.text()}`);
          return r.text();
        },
        async stop() {
          if (proc.exitCode !== null) return;
          proc.removeAllListeners('exit');
          const exited = new Promise((res) => proc.on('exit', res));
          proc.kill('SIGTERM');
          await exited;
        },
      });
    });
  });
}
