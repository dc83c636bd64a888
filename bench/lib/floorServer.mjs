// The floor: the cheapest exec server Node and `ws` allow, measured by the same client in the
// same run so the table can show what our server costs above it. It speaks only what the bench
// client sends (initialize, process/start, process/write, process/terminate), trusts its input,
// keeps no output, checks no token, and pauses a process only when its socket backs up (the
// one thing the workloads need to stay bounded). Not a server to use: a measuring stick.
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { WebSocketServer } from 'ws';

const require = createRequire(import.meta.url);
const HWM = 4 * 1024 * 1024;
const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false, maxPayload: 64 * 1024 * 1024 });

wss.on('connection', (ws, req) => {
  req.socket.setNoDelay(true);
  const procs = new Map();
  const reply = (id, result) => ws.send(JSON.stringify({ id, result }));
  const output = (id, proc, stream) => (data) => {
    ws.send(Buffer.from(`{"method":"process/output","params":{"processId":"${id}","seq":${++proc.seq},"stream":"${stream}","chunk":"${data.toString('base64')}"}}`, 'latin1'), { binary: false });
    if (ws.bufferedAmount > HWM && !proc.paused) {
      proc.paused = true;
      proc.pause();
      const check = () => (ws.bufferedAmount <= HWM / 2 ? ((proc.paused = false), proc.resume()) : req.socket.once('drain', check));
      req.socket.once('drain', check);
    }
  };
  const finished = (id, proc, exitCode) => {
    ws.send(JSON.stringify({ method: 'process/exited', params: { processId: id, seq: ++proc.seq, exitCode } }));
    ws.send(JSON.stringify({ method: 'process/closed', params: { processId: id, seq: ++proc.seq } }));
    procs.delete(id);
  };
  const start = ({ processId: id, argv, tty, pipeStdin, env }) => {
    const proc = { seq: 0, paused: false };
    if (tty) {
      const t = require('node-pty').spawn(argv[0], argv.slice(1), { name: 'xterm-256color', cols: 80, rows: 24, env, encoding: null });
      Object.assign(proc, { pid: t.pid, write: (b) => t.write(b), pause: () => t.pause(), resume: () => t.resume() });
      t.onData(output(id, proc, 'pty'));
      t.onExit(({ exitCode }) => finished(id, proc, exitCode));
    } else {
      const c = spawn(argv[0], argv.slice(1), { env, detached: true, stdio: [pipeStdin ? 'pipe' : 'ignore', 'pipe', 'pipe'] });
      // stdout and stderr are 'pipe' above (the conditional stdin hides that from the types).
      const stdout = /** @type {import('node:stream').Readable} */ (c.stdout);
      const stderr = /** @type {import('node:stream').Readable} */ (c.stderr);
      Object.assign(proc, { pid: c.pid, write: (b) => c.stdin?.write(b), pause: () => stdout.pause(), resume: () => stdout.resume() });
      stdout.on('data', output(id, proc, 'stdout'));
      stderr.on('data', output(id, proc, 'stderr'));
      c.on('close', (code) => finished(id, proc, code ?? 1));
    }
    procs.set(id, proc);
    return { processId: id, pid: proc.pid };
  };
  ws.on('message', (text) => {
    const { id, method, params } = JSON.parse(text.toString());
    if (method === 'initialize') reply(id, { sessionId: 'floor' });
    else if (method === 'process/start') reply(id, start(params));
    else if (method === 'process/write') {
      procs.get(params.processId)?.write(Buffer.from(params.chunk, 'base64'));
      reply(id, { status: 'accepted' });
    } else if (method === 'process/terminate') {
      const p = procs.get(params.processId);
      if (p) process.kill(-p.pid, 'SIGKILL');
      reply(id, { running: !!p });
    } else if (id !== undefined) reply(id, null);
  });
  ws.on('close', () => {
    for (const p of procs.values()) {
      try {
        process.kill(-p.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  });
});
wss.on('listening', () => process.stderr.write(`listening on ws://127.0.0.1:${/** @type {import('node:net').AddressInfo} */ (wss.address()).port}\n`));
process.on('SIGTERM', () => process.exit(0));
