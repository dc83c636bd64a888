#!/usr/bin/env node
// Test double for OUR server's CLI contract, built from the reference: lets the EXEC_SERVER_CMD
// path of codex.interop.test.mjs (including the sandbox-refusal test) be exercised before our
// server exists. Not a product component.
//
//   node test/interop/referenceShim.mjs --listen ws://127.0.0.1:0 --token-file PATH [--frames FILE]
//   EXEC_SERVER_CMD='["node","test/interop/referenceShim.mjs"]' node --test test/interop/codex.interop.test.mjs
//
// It starts `codex exec-server --listen ws://127.0.0.1:0` (no auth, private port; CODEX_BIN or
// scripts/install-codex.sh), and in front of it a loopback proxy that
//  * prints `listening on ws://127.0.0.1:PORT` on stderr,
//  * accepts the token as `Authorization: Bearer T` or `?token=T` (401 otherwise),
//  * answers a `process/start` whose `sandbox` is not null with a -32602 error that mentions
//    danger-full-access (what our server is meant to do) instead of forwarding it.
// SIGTERM/SIGINT stop the reference child (by PID) and exit.
import { spawn, execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { timingSafeEqual } from 'node:crypto';
import { startLogProxy } from './wsLogProxy.mjs';

const args = process.argv.slice(2);
const opt = (name) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const listen = opt('--listen') ?? 'ws://127.0.0.1:0';
const tokenFile = opt('--token-file');
if (!tokenFile) {
  console.error('referenceShim: --token-file PATH is required');
  process.exit(2);
}
const token = readFileSync(tokenFile, 'utf8').replace(/\r?\n$/, '');
const listenUrl = new URL(listen);
if (listenUrl.hostname !== '127.0.0.1') {
  console.error('referenceShim: loopback only');
  process.exit(2);
}

const here = new URL('.', import.meta.url).pathname;
const codexBin =
  process.env.CODEX_BIN ||
  execFileSync(join(here, '../../scripts/install-codex.sh'), { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim();

const ref = spawn(codexBin, ['exec-server', '--listen', 'ws://127.0.0.1:0'], { stdio: ['ignore', 'pipe', 'inherit'] });
const upstream = await new Promise((resolve, reject) => {
  let out = '';
  ref.stdout.setEncoding('utf8').on('data', (d) => {
    out += d;
    const m = /^(ws:\/\/\S+)/m.exec(out);
    if (m) resolve(m[1]);
  });
  ref.once('exit', (c) => reject(new Error(`reference exec-server exited ${c}`)));
});

const sameToken = (candidate) => {
  const a = Buffer.from(String(candidate ?? ''));
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
};

const proxy = await startLogProxy({
  upstream,
  port: Number(listenUrl.port || 0),
  logFile: opt('--frames'),
  authorize(req) {
    const auth = req.headers.authorization;
    const query = new URL(/** @type {string} */ (req.url), 'http://x').searchParams.get('token');
    if (auth != null) {
      const m = /^bearer\s+(.+)$/i.exec(auth);
      return m && sameToken(m[1]) ? null : { status: 401, body: 'invalid token' };
    }
    if (query != null) return sameToken(query) ? null : { status: 401, body: 'invalid token' };
    return { status: 401, body: 'missing token' };
  },
  intercept(msg) {
    if (msg.method === 'process/start' && msg.params?.sandbox != null) {
      return {
        id: msg.id,
        error: {
          code: -32602,
          message: 'this exec server does not sandbox processes; run codex with danger-full-access (--dangerously-bypass-approvals-and-sandbox)',
        },
      };
    }
    return null;
  },
});
console.error(`referenceShim: listening on ${proxy.url} (reference pid ${ref.pid} at ${upstream})`);

// It printed its address above, so it was spawned and has a pid.
const refPid = /** @type {number} */ (ref.pid);
let stopping = false;
const refExited = new Promise((resolve) => ref.once('exit', resolve));
const shutdown = async () => {
  if (stopping) return;
  stopping = true;
  try {
    process.kill(refPid, 'SIGTERM');
  } catch {}
  const t = setTimeout(() => {
    try {
      process.kill(refPid, 'SIGKILL');
    } catch {}
  }, 2000);
  await refExited; // reap it, so no zombie is left behind
  clearTimeout(t);
  await proxy.close();
  process.exit(0);
};
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);
refExited.then(() => stopping || process.exit(1));
