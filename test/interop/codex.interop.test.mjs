// Interop: the real codex CLI (0.169.0 by default; CODEX_VERSION=0.171.0 for the other version of
// the matrix, see scripts/install-codex.sh) runs tool calls on the exec server under test, driven
// offline by a scripted mock model. `npm run test:interop` runs this file once per version.
//
//   node --test test/interop/codex.interop.test.mjs                      # against the reference
//   EXEC_SERVER_CMD='["node","/work/main/dist/cli.js"]' \
//     node --test test/interop/codex.interop.test.mjs                    # against our server
//
// CODEX_BIN may point at a codex binary; otherwise scripts/install-codex.sh provides it (cached
// outside the repo). Loopback only; every test stops what it started (by PID); bounded timeouts.
// Run this file explicitly: `node --test test/interop/` would also load the helper modules.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { startMockModel, sessionIdFrom } from './mockModel.mjs';
import { runCodexExec, commandExecutions } from './codexRunner.mjs';
import { startExecServer, serverUnderTest, isSameOrDescendant } from './execServers.mjs';
import { installCodex, onEnd } from './testLifecycle.mjs';

const SUT = serverUnderTest();
/** The codex version of this run (one row of the matrix); CODEX_BIN overrides the binary. */
const CODEX_VERSION = process.env.CODEX_VERSION || '0.169.0';
const CODEX_TIMEOUT_MS = 60_000;
const TEST_TIMEOUT_MS = 120_000;
const NO_ENV = /No usable execution environment/;

let codexBin;

before(() => {
  codexBin = process.env.CODEX_BIN || installCodex(CODEX_VERSION);
});

const newToken = () => randomBytes(18).toString('base64url');

async function setup(t, { token, script }) {
  const server = await startExecServer({ codexBin, token });
  onEnd(t, () => server.stop());
  const model = await startMockModel(script);
  onEnd(t, () => model.close());
  const workdir = mkdtempSync(join(tmpdir(), 'codex-interop-wd-'));
  onEnd(t, async () => rmSync(workdir, { recursive: true, force: true }));
  t.diagnostic(`codex ${process.env.CODEX_BIN ? `at ${codexBin}` : CODEX_VERSION}; ${server.kind} exec server pid ${server.pid} at ${server.url}`);
  return { server, model, workdir };
}

function runCodex(t, model, workdir, opts) {
  return runCodexExec({
    codexBin,
    prompt: 'Run the scripted tool calls.',
    workdir,
    mockBaseUrl: model.baseUrl,
    timeoutMs: CODEX_TIMEOUT_MS,
    ...opts,
  }).then((r) => {
    t.diagnostic(`codex exec: exit ${r.code} in ${r.ms} ms`);
    assert.equal(r.timedOut, false, `codex timed out; stderr:\n${r.stderr}`);
    assert.equal(r.code, 0, `codex exited ${r.code}; stderr:\n${r.stderr}`);
    return r;
  });
}

// `$((6*7))` so that the marker appears only if the command really ran.
const pipeScript = (tag) => [
  { tool: 'exec_command', args: { cmd: `echo ${tag}-$((6*7)); echo ppid=$PPID`, yield_time_ms: 5000 } },
];

function assertRanOnServer(output, tag, server) {
  assert.match(output, new RegExp(`${tag}-42`), `command output did not reach the model:\n${output}`);
  assert.match(output, /Process exited with code 0/);
  const ppid = Number(/ppid=(\d+)/.exec(output)?.[1]);
  assert.ok(
    isSameOrDescendant(ppid, server.pid),
    `command's parent ${ppid} is not the exec server (pid ${server.pid}) or one of its descendants`,
  );
}

test('pipe command via CODEX_EXEC_SERVER_URL with ?token= in the URL', { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const token = newToken();
  // The reference only takes `Authorization: Bearer`; with it, the query token is rejected (401).
  // Against the reference this test therefore runs an unauthenticated server and still passes the
  // query, which checks the codex side (path and query kept on the upgrade request).
  const { server, model, workdir } = await setup(t, {
    token: SUT.supportsQueryToken ? token : null,
    script: pipeScript('via-url'),
  });
  if (!server.supportsQueryToken) t.diagnostic('reference server: started without auth (it ignores ?token=)');
  const r = await runCodex(t, model, workdir, { execServerUrl: `${server.url}/?token=${encodeURIComponent(token)}` });
  const [out] = model.toolOutputs();
  assert.ok(out, 'codex sent no function_call_output');
  assertRanOnServer(out.output, 'via-url', server);
  const cmd = commandExecutions(r.events)[0];
  assert.equal(cmd?.status, 'completed');
  assert.equal(cmd?.exit_code, 0);
});

test('pipe command via environments.toml with auth_bearer_token', { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const token = newToken();
  const { server, model, workdir } = await setup(t, { token, script: pipeScript('via-toml') });
  await runCodex(t, model, workdir, { environmentsToml: { url: server.url, authBearerToken: token } });
  const [out] = model.toolOutputs();
  assert.ok(out, 'codex sent no function_call_output');
  assertRanOnServer(out.output, 'via-toml', server);
});

test('tty exec_command driven by write_stdin', { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const token = newToken();
  const { server, model, workdir } = await setup(t, {
    token,
    script: [
      { tool: 'exec_command', args: { cmd: 'echo prompt-ready; read -r line; echo got:$line', yield_time_ms: 1000, tty: true } },
      {
        tool: 'write_stdin',
        args: (last) => ({ session_id: sessionIdFrom(last), chars: 'typed-by-model\n', yield_time_ms: 3000 }),
      },
    ],
  });
  const r = await runCodex(t, model, workdir, { environmentsToml: { url: server.url, authBearerToken: token } });
  const [first, second] = model.toolOutputs();
  assert.ok(first && second, `expected two tool outputs, got ${JSON.stringify(model.toolOutputs())}`);
  assert.match(first.output, /Process running with session ID \d+/, first.output);
  assert.match(first.output, /prompt-ready/);
  assert.match(second.output, /got:typed-by-model/, second.output);
  assert.match(second.output, /Process exited with code 0/);
  // A PTY echoes input and ends lines with \r\n.
  assert.match(second.output, /typed-by-model\r\n/);
  const cmd = commandExecutions(r.events)[0];
  assert.equal(cmd?.exit_code, 0);
});

test('wrong token: codex reports "No usable execution environment"', { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const token = newToken();
  const { server, model, workdir } = await setup(t, { token, script: pipeScript('wrong-token') });
  /** @type {[string, { environmentsToml?: { url: string, authBearerToken: string }, execServerUrl?: string }][]} */
  const cases = [['environments.toml bearer', { environmentsToml: { url: server.url, authBearerToken: 'wrong-' + token } }]];
  if (server.supportsQueryToken) {
    cases.push(['CODEX_EXEC_SERVER_URL ?token=', { execServerUrl: `${server.url}/?token=wrong-${token}` }]);
  }
  cases.push(['no token at all', { execServerUrl: server.url }]);
  for (const [name, opts] of cases) {
    const r = await runCodex(t, model, workdir, opts);
    const outputs = model.toolOutputs();
    const out = outputs[outputs.length - 1]?.output ?? '';
    assert.match(out, NO_ENV, `${name}: ${out}`);
    assert.doesNotMatch(out, /wrong-token-42/, `${name}: the command ran`);
    assert.equal(commandExecutions(r.events).length, 0, `${name}: codex reported a command execution`);
    // The mock model's call ids repeat per codex run; start the next run from a clean record.
    model.requests.length = 0;
  }
  assert.equal(server.exited(), null, 'the server died');
});

// Sandboxed requests (-s workspace-write / read-only), enforced or refused: sandbox.interop.test.mjs.
