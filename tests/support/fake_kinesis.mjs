// Starts the project's fake Kinesis endpoint (build/kinship-fake-kinesis) on
// 127.0.0.1 and talks to its control API (/_fake/...).

import { spawn } from 'node:child_process';
import fs from 'node:fs';
import https from 'node:https';
import path from 'node:path';

import { repoDir } from './daemon.mjs';

export function fakeBin() {
  const bin = process.env.KINSHIP_FAKE_BIN || path.join(repoDir, 'build', 'kinship-fake-kinesis');
  if (!fs.existsSync(bin)) throw new Error(`fake endpoint not found at ${bin} (set KINSHIP_FAKE_BIN)`);
  return bin;
}

// fetch() for the control API; over HTTPS (a fake started with --tls-cert)
// it trusts `ca`, the PEM of the fake's certificate.
function controlRequest(url, { method = 'GET', body, ca } = {}) {
  if (!url.startsWith('https:')) return fetch(url, { method, body });
  return new Promise((resolve, reject) => {
    const req = https.request(url, { method, ca }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c) => (text += c));
      res.on('end', () => resolve({ ok: res.statusCode < 300, status: res.statusCode, text: async () => text,
        json: async () => JSON.parse(text) }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

/**
 * Starts the fake with CLI `args` (port 0); resolves to {url, stats(), post(), get(), stop()}.
 * With `--tls-cert`/`--tls-key` in `args`, pass `{ ca }` (the certificate's PEM) for the control API.
 */
export function startFake(args, { ca } = {}) {
  const proc = spawn(fakeBin(), ['--port', '0', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  proc.stderr.on('data', (c) => (stderr += c));
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`fake endpoint did not start: ${stderr}`)), 10000);
    proc.on('exit', (code) => reject(new Error(`fake endpoint exited (${code}): ${stderr}`)));
    proc.stdout.on('data', function onData(chunk) {
      out += chunk;
      const m = /listening on (https?:\/\/127\.0\.0\.1:\d+)/.exec(out);
      if (!m) return;
      clearTimeout(timer);
      proc.stdout.off('data', onData);
      proc.stdout.resume();
      const url = m[1];
      resolve({
        url,
        async stats() {
          const r = await controlRequest(`${url}/_fake/stats`, { ca });
          return r.json();
        },
        async get(what) {
          const r = await controlRequest(`${url}/_fake/${what}`, { ca });
          if (!r.ok) throw new Error(`GET /_fake/${what}: ${r.status} ${await r.text()}`);
          return r.json();
        },
        async post(what, body) {
          const r = await controlRequest(`${url}/_fake/${what}`, { method: 'POST', body: JSON.stringify(body), ca });
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
