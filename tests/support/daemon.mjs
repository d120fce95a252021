// Runs the kinship binary from integration tests.
//
//   kinshipBin()                       -> $KINSHIP_BIN, else <repo>/build/kinship
//   await runKinship(args, {env, timeoutMs}) -> {code, signal, stdout, stderr, timedOut}
//   const d = startDaemon(args, {env}) -> {proc, stderr(), stdout(), exited, stop(signal, ms)}
//   makeTempDir(prefix)                -> a fresh directory under os.tmpdir()
//   show(result)                       -> a runKinship() result as text, for failure messages
//   await freeTcpPort()                -> a TCP port on 127.0.0.1 that was free a moment ago

import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
export const repoDir = process.env.KINSHIP_SOURCE_DIR || path.resolve(here, '..', '..');

export function kinshipBin() {
  const bin = process.env.KINSHIP_BIN || path.join(repoDir, 'build', 'kinship');
  if (!fs.existsSync(bin)) {
    throw new Error(`kinship binary not found at ${bin} (set KINSHIP_BIN or build with scripts/build.sh)`);
  }
  return bin;
}

export function makeTempDir(prefix = 'kinship-it-') {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

// Keeps the last `max` bytes of a stream.
class Tail {
  constructor(max = 256 * 1024) {
    this.max = max;
    this.chunks = [];
    this.size = 0;
  }
  push(chunk) {
    this.chunks.push(chunk);
    this.size += chunk.length;
    while (this.size > this.max && this.chunks.length > 1) this.size -= this.chunks.shift().length;
  }
  text() {
    return Buffer.concat(this.chunks).toString('utf8');
  }
}

// Environment for the daemon: the caller's, with AWS credentials that are
// dummies unless given, and no real AWS profile lookups.
function daemonEnv(extra = {}) {
  return {
    ...process.env,
    AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE',
    AWS_SECRET_ACCESS_KEY: 'test-secret',
    AWS_REGION: 'us-east-1',
    AWS_EC2_METADATA_DISABLED: 'true',
    ...extra,
  };
}

/** Runs kinship to completion (killed after timeoutMs). */
export function runKinship(args, { env = {}, timeoutMs = 15000 } = {}) {
  const bin = kinshipBin();
  return new Promise((resolve, reject) => {
    const proc = spawn(bin, args, { env: daemonEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
    const out = new Tail();
    const err = new Tail();
    proc.stdout.on('data', (c) => out.push(c));
    proc.stderr.on('data', (c) => err.push(c));
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      proc.kill('SIGKILL');
    }, timeoutMs);
    proc.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    proc.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout: out.text(), stderr: err.text(), timedOut });
    });
  });
}

/** Starts kinship in the background. */
export function startDaemon(args, { env = {} } = {}) {
  const bin = kinshipBin();
  const proc = spawn(bin, args, { env: daemonEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
  const out = new Tail();
  const err = new Tail();
  proc.stdout.on('data', (c) => out.push(c));
  proc.stderr.on('data', (c) => err.push(c));
  let result = null;
  const exited = new Promise((resolve) => {
    proc.on('error', (e) => {
      result = { code: null, signal: null, error: e };
      resolve(result);
    });
    proc.on('exit', (code, signal) => {
      result = { code, signal };
      resolve(result);
    });
  });
  return {
    proc,
    exited,
    stdout: () => out.text(),
    stderr: () => err.text(),
    /** null while running, else {code, signal}. */
    status: () => result,
    /**
     * Sends `signal`, waits up to timeoutMs; returns {code, signal, timedOut}.
     * On time-out the process is killed with SIGKILL.
     */
    async stop(signal = 'SIGTERM', timeoutMs = 10000) {
      if (result) return { ...result, timedOut: false };
      proc.kill(signal);
      let timer;
      const timeout = new Promise((resolve) => {
        timer = setTimeout(() => resolve('timeout'), timeoutMs);
      });
      const r = await Promise.race([exited, timeout]);
      clearTimeout(timer);
      if (r === 'timeout') {
        proc.kill('SIGKILL');
        const k = await exited;
        return { ...k, timedOut: true };
      }
      return { ...r, timedOut: false };
    },
    /** Kills it hard if still running (for cleanup). */
    async kill() {
      if (result) return result;
      proc.kill('SIGKILL');
      return exited;
    },
  };
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Polls `fn` every intervalMs until it returns a truthy value or timeoutMs passes. */
export async function waitFor(fn, { timeoutMs = 10000, intervalMs = 100, what = 'condition' } = {}) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(intervalMs);
  }
}

/** A TCP port on 127.0.0.1 that nothing listened on a moment ago. */
export function freeTcpPort() {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** A runKinship() result, for failure messages. */
export function show(r) {
  return `exit ${r.code} signal ${r.signal}${r.timedOut ? ' (timed out)' : ''}\n` +
    `--- stdout:\n${r.stdout}\n--- stderr:\n${r.stderr}`;
}

/** The last `lines` lines of a log, for failure messages. */
export function tailOf(text, lines = 60) {
  return text.split('\n').slice(-lines).join('\n');
}

/** The first `n` items of a list as JSON, with the total when cut. */
export function sample(list, n = 5) {
  return JSON.stringify(list.slice(0, n)) + (list.length > n ? ` … (${list.length} in all)` : '');
}
