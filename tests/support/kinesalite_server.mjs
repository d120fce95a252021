// Starts kinesalite (an in-memory Kinesis Data Streams server, npm package)
// on 127.0.0.1 for tests and the demo.
//
//   import { startKinesalite } from './kinesalite_server.mjs';
//   const k = await startKinesalite();          // port 0: any free port
//   ... k.endpoint ('http://127.0.0.1:PORT') ...
//   await k.close();
//
// As a CLI: node tests/support/kinesalite_server.mjs [--port 4567]
// prints "kinesalite listening on http://127.0.0.1:4567" and runs until
// SIGTERM or SIGINT.
//
// kinesalite is found through NODE_PATH or in <repo>/.deps/node/node_modules
// (where scripts/install.sh puts it).

import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
export const repoDir = path.resolve(here, '..', '..');

function loadKinesalite() {
  const attempts = [
    // NODE_PATH (as ctest sets it) and any node_modules above this file.
    () => createRequire(import.meta.url)('kinesalite'),
    // The repo's own dependency folder.
    () => createRequire(path.join(repoDir, '.deps', 'node', 'package.json'))('kinesalite'),
  ];
  let lastError;
  for (const attempt of attempts) {
    try {
      return attempt();
    } catch (e) {
      if (e.code !== 'MODULE_NOT_FOUND') throw e;
      lastError = e;
    }
  }
  throw new Error(
    `kinesalite not found (NODE_PATH=${process.env.NODE_PATH ?? ''}; ` +
      `looked in ${path.join(repoDir, '.deps', 'node', 'node_modules')}): ` +
      `run scripts/install.sh first. (${lastError?.message?.split('\n')[0]})`);
}

/**
 * Starts kinesalite on 127.0.0.1.
 * @param {{port?: number, host?: string}} options port 0 picks a free port.
 * @returns {Promise<{endpoint: string, port: number, close: () => Promise<void>}>}
 */
export async function startKinesalite({ port = 0, host = '127.0.0.1' } = {}) {
  const kinesalite = loadKinesalite();
  const server = kinesalite({ createStreamMs: 0, deleteStreamMs: 0, updateStreamMs: 0 });
  await new Promise((resolve, reject) => {
    const onError = (err) => {
      server.removeListener('listening', onListening);
      reject(err.code === 'EADDRINUSE'
        ? new Error(`kinesalite: ${host}:${port} is already in use`)
        : err);
    };
    const onListening = () => {
      server.removeListener('error', onError);
      resolve();
    };
    server.once('error', onError);
    server.once('listening', onListening);
    server.listen(port, host);
  });
  const actualPort = server.address().port;
  let closed = null;
  return {
    endpoint: `http://${host}:${actualPort}`,
    port: actualPort,
    server,
    close() {
      if (!closed) {
        closed = new Promise((resolve) => {
          // kinesalite's close() also closes its in-memory database.
          server.close(() => resolve());
          // Keep-alive connections (the daemon's, our fetch pool) would hold
          // close() open otherwise.
          server.closeAllConnections?.();
        });
      }
      return closed;
    },
  };
}

function parseArgs(argv) {
  const out = { port: 4567 };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--port') out.port = Number(argv[++i]);
    else if (a.startsWith('--port=')) out.port = Number(a.slice(7));
    else if (a === '-h' || a === '--help') {
      console.log('usage: node kinesalite_server.mjs [--port PORT]   (0 = any free port; default 4567)');
      process.exit(0);
    } else {
      console.error(`kinesalite_server: unknown argument ${a}`);
      process.exit(2);
    }
  }
  if (!Number.isInteger(out.port) || out.port < 0 || out.port > 65535) {
    console.error('kinesalite_server: --port needs a number 0..65535');
    process.exit(2);
  }
  return out;
}

async function main() {
  const { port } = parseArgs(process.argv.slice(2));
  let k;
  try {
    k = await startKinesalite({ port });
  } catch (e) {
    console.error(e.message);
    process.exit(1);
  }
  console.log(`kinesalite listening on ${k.endpoint}`);
  const stop = async (signal) => {
    await Promise.race([k.close(), new Promise((r) => setTimeout(r, 2000))]);
    process.exit(signal === 'SIGINT' ? 130 : 0);
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  await main();
}
