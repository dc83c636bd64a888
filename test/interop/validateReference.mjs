#!/usr/bin/env node
// Validates the harness (mockModel + codexRunner + execServers) against the REFERENCE server,
// `codex exec-server` from the pinned codex binary, and records what the reference does.
// Every exec-server connection goes through wsLogProxy, so the JSON-RPC frames are captured.
//
//   CODEX_BIN=$(scripts/install-codex.sh) node test/interop/validateReference.mjs [outDir]
//
// Writes <outDir>/<case>.frames.jsonl and <outDir>/summary.json (default outDir: a temp dir),
// prints one line per case. Exit code 1 if any expectation failed.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { startMockModel, sessionIdFrom } from './mockModel.mjs';
import { runCodexExec, commandExecutions } from './codexRunner.mjs';
import { startExecServer } from './execServers.mjs';
import { startLogProxy } from './wsLogProxy.mjs';

delete process.env.EXEC_SERVER_CMD; // this script is about the reference only
const here = new URL('.', import.meta.url).pathname;
const codexBin =
  process.env.CODEX_BIN ||
  execFileSync(join(here, '../../scripts/install-codex.sh'), { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim();
const outDir = process.argv[2] || mkdtempSync(join(tmpdir(), 'codex-interop-validate-'));
mkdirSync(outDir, { recursive: true });
const TOKEN = 'tok-' + Math.random().toString(36).slice(2);
const summary = {};
let failures = 0;

/**
 * One case: its own server (with `token`, or none), proxy, mock model and codex run; `check`
 * returns what was observed and reports problems through `expect(cond, msg)`.
 * @param {string} name
 * @param {{ token: string | null, script: Parameters<typeof startMockModel>[0], codexOpts: (url: string) => object,
 *   check: (ctx: any, expect: (cond: unknown, msg: string) => unknown) => object, intercept?: (msg: any) => object | null }} c
 */
async function runCase(name, { token, script, codexOpts, check, intercept }) {
  const t0 = Date.now();
  const srv = await startExecServer({ codexBin, token });
  const tServer = Date.now() - t0;
  const framesFile = join(outDir, `${name}.frames.jsonl`);
  rmSync(framesFile, { force: true });
  const proxy = await startLogProxy({ upstream: srv.url, logFile: framesFile, intercept });
  const model = await startMockModel(script);
  const workdir = mkdtempSync(join(tmpdir(), 'codex-interop-wd-'));
  let r;
  try {
    r = await runCodexExec({ codexBin, prompt: 'run the scripted tool calls', workdir, mockBaseUrl: model.baseUrl, timeoutMs: 60_000, ...codexOpts(proxy.url) });
  } finally {
    await model.close();
    await proxy.close();
    await srv.stop();
    rmSync(workdir, { recursive: true, force: true });
  }
  const ctx = { r, model, proxy, srv, outputs: model.toolOutputs(), cmds: commandExecutions(r.events) };
  const problems = [];
  const observed = check(ctx, (cond, msg) => cond || problems.push(msg));
  summary[name] = {
    ok: problems.length === 0,
    problems,
    serverStartMs: tServer,
    codexMs: r.ms,
    totalMs: Date.now() - t0,
    codexExit: r.code,
    handshake: proxy.frames.find((f) => f.dir === 'handshake' || f.dir === 'reject'),
    rejects: proxy.frames.filter((f) => f.dir === 'reject'),
    toolOutputs: ctx.outputs,
    observed,
  };
  if (problems.length) failures++;
  console.log(`${problems.length ? 'FAIL' : 'ok  '} ${name}  server ${tServer} ms, codex ${r.ms} ms${problems.length ? '  ' + problems.join('; ') : ''}`);
}

const pipeScript = [{ tool: 'exec_command', args: { cmd: 'echo hello-interop; echo ppid=$PPID', yield_time_ms: 5000 } }];
const checkPipe = ({ r, outputs, srv }, expect) => {
  const out = outputs[0]?.output ?? '';
  const ppid = Number(/ppid=(\d+)/.exec(out)?.[1]);
  expect(r.code === 0, `codex exit ${r.code}`);
  expect(out.includes('hello-interop'), 'output did not reach the model');
  expect(ppid === srv.pid, `ppid ${ppid} != server pid ${srv.pid}`);
  return { ppid, serverPid: srv.pid, output: out };
};

// (a1) CODEX_EXEC_SERVER_URL, no auth on the server.
await runCase('a1_pipe_env_url_noauth', {
  token: null,
  script: pipeScript,
  codexOpts: (url) => ({ execServerUrl: url }),
  check: checkPipe,
});
// (a2) environments.toml with auth_bearer_token, server with --ws-auth capability-token.
await runCase('a2_pipe_environments_toml_bearer', {
  token: TOKEN,
  script: pipeScript,
  codexOpts: (url) => ({ environmentsToml: { url, authBearerToken: TOKEN } }),
  check: (ctx, expect) => {
    const o = checkPipe(ctx, expect);
    const hs = ctx.proxy.frames.find((f) => f.dir === 'handshake');
    expect(hs?.headers?.authorization === `Bearer ${TOKEN}`, 'no Authorization: Bearer header');
    const start = ctx.proxy.requests('process/start')[0];
    return { ...o, processStart: start?.params };
  },
});
// (a3) CODEX_EXEC_SERVER_URL with ?token= against an auth-enabled reference (expected: rejected,
//      the reference only takes the Authorization header).
await runCase('a3_env_url_query_token_vs_auth_reference', {
  token: TOKEN,
  script: pipeScript,
  codexOpts: (url) => ({ execServerUrl: `${url}/?token=${TOKEN}` }),
  check: ({ r, outputs, proxy }, expect) => {
    const rej = proxy.frames.find((f) => f.dir === 'reject');
    expect(rej?.status === 401, `expected a 401, got ${JSON.stringify(rej)}`);
    expect(/No usable execution environment/.test(outputs[0]?.output ?? ''), 'no "No usable execution environment"');
    return { reject: rej, output: outputs[0]?.output, codexExit: r.code };
  },
});
// (b) tty exec_command + write_stdin.
await runCase('b_tty_write_stdin', {
  token: TOKEN,
  script: [
    { tool: 'exec_command', args: { cmd: 'echo prompt-ready; read -r line; echo got:$line', yield_time_ms: 1000, tty: true } },
    { tool: 'write_stdin', args: (last) => ({ session_id: sessionIdFrom(last), chars: 'typed-by-model\n', yield_time_ms: 2000 }) },
  ],
  codexOpts: (url) => ({ environmentsToml: { url, authBearerToken: TOKEN } }),
  check: ({ r, outputs, proxy }, expect) => {
    expect(r.code === 0, `codex exit ${r.code}`);
    expect(/session ID \d+/.test(outputs[0]?.output ?? ''), 'first output has no session ID');
    expect((outputs[1]?.output ?? '').includes('got:typed-by-model'), 'second output lacks got:typed-by-model');
    const start = proxy.requests('process/start')[0]?.params;
    const write = proxy.requests('process/write')[0]?.params;
    expect(start?.tty === true, 'process/start tty != true');
    expect(write && Buffer.from(write.chunk, 'base64').toString() === 'typed-by-model\n', 'process/write chunk');
    return { outputs: outputs.map((o) => o.output), tty: start?.tty, write, streams: [...new Set(proxy.frames.filter((f) => f.msg?.method === 'process/output').map((f) => f.msg.params.stream))] };
  },
});
// (c) wrong token.
await runCase('c_wrong_token', {
  token: TOKEN,
  script: pipeScript,
  codexOpts: (url) => ({ environmentsToml: { url, authBearerToken: 'wrong-' + TOKEN } }),
  check: ({ r, outputs, proxy, cmds }, expect) => {
    const out = outputs[0]?.output ?? '';
    expect(r.code === 0, `codex exit ${r.code}`);
    expect(/No usable execution environment/.test(out), `output: ${out}`);
    expect(!proxy.frames.some((f) => f.dir === 'c2s'), 'frames were exchanged');
    return { output: out, rejects: proxy.frames.filter((f) => f.dir === 'reject').length, events: r.events.filter((e) => e.type !== 'thread.started') , cmds };
  },
});
// (d) -s workspace-write -c approval_policy=never.
await runCase('d_workspace_write_sandbox', {
  token: TOKEN,
  script: [{ tool: 'exec_command', args: { cmd: 'echo sandboxed-run; echo ppid=$PPID; touch ./inside && echo wrote-inside; touch /tmp/outside-$$ && echo wrote-outside', yield_time_ms: 5000 } }],
  codexOpts: (url) => ({ environmentsToml: { url, authBearerToken: TOKEN }, sandbox: 'workspace-write' }),
  check: ({ r, outputs, proxy }, expect) => {
    const start = proxy.requests('process/start')[0]?.params;
    const reply = proxy.frames.find((f) => f.dir === 's2c' && f.msg?.id === proxy.requests('process/start')[0]?.id)?.msg;
    expect(start && start.sandbox && typeof start.sandbox === 'object', 'process/start has no sandbox object');
    return { sandbox: start?.sandbox, argv: start?.argv, reply, output: outputs[0]?.output, codexExit: r.code };
  },
});
// (e) How codex surfaces a process/start error (what our server does for a sandboxed request):
//     the proxy answers process/start itself with an error that mentions danger-full-access.
await runCase('e_process_start_error_surfaced', {
  token: TOKEN,
  script: [{ tool: 'exec_command', args: { cmd: 'echo should-not-run', yield_time_ms: 5000 } }],
  codexOpts: (url) => ({ environmentsToml: { url, authBearerToken: TOKEN }, sandbox: 'workspace-write' }),
  intercept: (msg) =>
    msg.method === 'process/start'
      ? { id: msg.id, error: { code: -32602, message: 'sandboxed execution is not supported; run codex with danger-full-access' } }
      : null,
  check: ({ r, outputs, cmds }, expect) => {
    const out = outputs[0]?.output ?? '';
    expect(out.includes('danger-full-access'), `error text not in function_call_output: ${out}`);
    return { output: out, cmds, codexExit: r.code };
  },
});

writeFileSync(join(outDir, 'summary.json'), JSON.stringify(summary, null, 2));
console.log(`frames + summary in ${outDir}`);
process.exit(failures ? 1 : 0);
