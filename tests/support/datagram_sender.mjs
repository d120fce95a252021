// Runs kinship-datagram-sender (tests/support/datagram_sender) from
// integration tests.
//
//   senderBin()                 -> $KINSHIP_SENDER_BIN, else <repo>/build/kinship-datagram-sender
//   await sendDatagrams(args)   -> the sender's JSON summary {sent, bytes, seconds, rate, ...}

import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

import { repoDir } from './daemon.mjs';

export function senderBin() {
  const bin = process.env.KINSHIP_SENDER_BIN || path.join(repoDir, 'build', 'kinship-datagram-sender');
  if (!fs.existsSync(bin)) throw new Error(`datagram sender not found at ${bin} (set KINSHIP_SENDER_BIN)`);
  return bin;
}

/** Runs the sender with `args` to completion; rejects unless it exits 0 with a summary. */
export function sendDatagrams(args, { timeoutMs = 120000 } = {}) {
  return new Promise((resolve, reject) => {
    const proc = spawn(senderBin(), args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    proc.stdout.on('data', (c) => (stdout += c));
    proc.stderr.on('data', (c) => (stderr += c));
    const timer = setTimeout(() => proc.kill('SIGKILL'), timeoutMs);
    proc.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    proc.on('close', (code, signal) => {
      clearTimeout(timer);
      if (code !== 0) {
        reject(new Error(`kinship-datagram-sender ${args.join(' ')} exited ${code ?? signal}: ${stderr}${stdout}`));
        return;
      }
      try {
        resolve(JSON.parse(stdout.trim().split('\n').pop()));
      } catch (e) {
        reject(new Error(`kinship-datagram-sender printed no summary: ${stdout} ${stderr}`));
      }
    });
  });
}
