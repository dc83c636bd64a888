/**
 * The bridge's five tools, driven by the MCP SDK's client in memory, against a real exec server
 * (dist/cli.js --listen ws://127.0.0.1:0) running real processes.
 */
import { after, before, test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { McpError } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';
import { startWsCli, writeTokenFile, type CliServer } from '../helpers/cli';
import { isAlive, ProcessGuard, waitGone, waitUntil } from '../helpers/procs';
import { ancestorsOf, cleanEnv, inMemoryBridge, tempDir, untilEnded, type InMemoryBridge } from './mcpHarness';

const guard = new ProcessGuard();
// Commands expected to finish pass yield_ms 30 000 (the most): run_command returns as soon as they
// do, and a loaded machine (a login shell whose profile is slow) never turns them into "running".
let server: CliServer;
let bridge: InMemoryBridge;
let work: string;

before(async () => {
  server = await startWsCli(guard);
  work = tempDir('mcp-tools-');
  bridge = await inMemoryBridge({
    url: server.url,
    tokenFile: writeTokenFile(server.token!),
    cwd: work,
    env: cleanEnv({ EXEC_SERVER_DISCOVERY_DIR: tempDir('mcp-disc-') }),
    clientName: 'claude-code',
  });
});
after(async () => {
  await bridge?.close();
});

test('tools are listed with their schemas, output schemas and annotations', async () => {
  const { tools } = await bridge.client.listTools();
  const byName = new Map(tools.map((t) => [t.name, t]));
  assert.deepEqual([...byName.keys()].sort(), ['get_output', 'list_processes', 'run_command', 'send_input', 'stop_process']);
  for (const t of tools) {
    assert.ok(t.outputSchema, `${t.name} declares an outputSchema`);
    assert.ok((t.description ?? '').length > 80, `${t.name} has a real description`);
  }
  assert.equal(byName.get('get_output')!.annotations?.readOnlyHint, true);
  assert.equal(byName.get('list_processes')!.annotations?.readOnlyHint, true);
  assert.equal(byName.get('run_command')!.annotations?.readOnlyHint, false);
  const props = Object.keys((byName.get('run_command')!.inputSchema as { properties: object }).properties).sort();
  assert.deepEqual(props, ['command', 'cwd', 'description', 'env', 'keep_stdin_open', 'max_output_chars', 'stdin', 'timeout_ms', 'tty', 'yield_ms'].sort());
});

test('run_command runs the line in the server (its ancestor), with the non-interactive env', async () => {
  const r = await bridge.call('run_command', { command: 'echo "pid=$$"; echo "pager=$PAGER gitpager=$GIT_PAGER prompt=$GIT_TERMINAL_PROMPT"; sleep 1', yield_ms: 0 });
  assert.equal(r.isError, false, r.text);
  const pid = r.structured.pid as number;
  assert.ok(pid > 0);
  await waitUntil(() => ancestorsOf(pid).length > 0, 'the process to appear in /proc');
  const anc = ancestorsOf(pid);
  // (In memory the bridge is this test process, the server's parent: stdio.test.ts checks the bridge is not an ancestor.)
  assert.ok(anc.includes(server.pid), `server ${server.pid} is among the ancestors ${anc.join(',')}`);
  const { last, output } = await untilEnded(bridge, r.structured.process_id);
  const all = r.structured.output + output;
  assert.match(all, new RegExp(`pid=${pid}\\b`));
  assert.match(all, /pager=cat gitpager=cat prompt=0/);
  assert.equal(last.structured.status, 'exited');
  assert.equal(last.structured.exit_code, 0);
});

test('results are structuredContent and the same object as text', async () => {
  const r = await bridge.call('run_command', { yield_ms: 30_000, command: 'printf "a\\nb\\n"; exit 3' });
  assert.equal(r.isError, false);
  assert.deepEqual(JSON.parse(r.text), r.structured);
  assert.equal(r.structured.status, 'exited');
  assert.equal(r.structured.exit_code, 3);
  assert.equal(r.structured.output, 'a\nb\n');
  assert.equal(r.structured.truncated, false);
  assert.equal(r.structured.next_cursor, 4);
  assert.equal(r.structured.signal, null);
  assert.equal(typeof r.structured.elapsed_ms, 'number');
});

test('cwd defaults to the agent directory, a relative cwd starts there, stderr is interleaved', async () => {
  const r = await bridge.call('run_command', { yield_ms: 30_000, command: 'pwd; echo err >&2' });
  assert.equal(r.structured.output, `${work}\nerr\n`);
  const sub = `${work}/sub`;
  fs.mkdirSync(sub, { recursive: true });
  const r2 = await bridge.call('run_command', { yield_ms: 30_000, command: 'pwd', cwd: 'sub' });
  assert.equal(r2.structured.output, `${sub}\n`);
});

test('yielding never kills: the process keeps running and get_output follows it to its end', async () => {
  const r = await bridge.call('run_command', { command: 'echo started; sleep 1.5; echo finished', yield_ms: 200 });
  assert.equal(r.structured.status, 'running');
  assert.equal(r.structured.exit_code, null);
  assert.ok(isAlive(r.structured.pid), 'still alive after run_command returned');
  const { last, output } = await untilEnded(bridge, r.structured.process_id);
  assert.match(r.structured.output + output, /started\n[\s\S]*finished\n/);
  assert.equal(last.structured.status, 'exited');
  assert.equal(last.structured.exit_code, 0);
});

test('progress: a caller that sends a progressToken gets notifications/progress while the call waits, with the latest line; increasing', async () => {
  const marker = `${work}/progress-go-${Date.now()}`;
  // The command waits for the test, which lets it finish once a progress message showed its first line.
  const command = `echo 'first line'; i=0; while [ ! -e '${marker}' ] && [ $i -lt 600 ]; do sleep 0.05; i=$((i+1)); done; echo finished`;
  const seen: Array<{ progress: number; message?: string }> = [];
  const r = await bridge.client.callTool({ name: 'run_command', arguments: { command, yield_ms: 30_000 } }, undefined, {
    timeout: 45_000,
    onprogress: (p) => {
      seen.push({ progress: p.progress, message: p.message });
      if (p.message?.includes('first line')) fs.writeFileSync(marker, '');
    },
  });
  const out = r.structuredContent as Record<string, any>;
  assert.equal(out.status, 'exited', JSON.stringify({ out, seen }));
  assert.match(out.output, /first line\nfinished\n/);
  assert.ok(seen.some((p) => /^running [\d.]+ s, \d+ bytes of output: first line$/.test(p.message ?? '')), JSON.stringify(seen));
  for (let i = 1; i < seen.length; i++) assert.ok(seen[i].progress > seen[i - 1].progress, JSON.stringify(seen));
  // A call without a token gets none (the SDK would reject an unknown token), and the answer is the same.
  const plain = await bridge.call('run_command', { command: 'echo plain', yield_ms: 30_000 });
  assert.equal(plain.structured.output, 'plain\n');
});

test('timeout_ms stops the process group: status killed, with a note', async () => {
  const r = await bridge.call('run_command', { yield_ms: 30_000, command: 'sleep 30 & sleep 30; wait', timeout_ms: 300 });
  assert.equal(r.structured.status, 'killed');
  assert.match(r.structured.note ?? '', /timeout_ms/);
  await waitGone(r.structured.pid);
});

test('stdin is at EOF by default, `stdin` text is written then EOF', async () => {
  const r = await bridge.call('run_command', { yield_ms: 30_000, command: 'cat; echo "cat-exit=$?"' });
  assert.equal(r.structured.output, 'cat-exit=0\n');
  const r2 = await bridge.call('run_command', { yield_ms: 30_000, command: 'read -r a; read -r b; echo "got:$a,$b"; cat | wc -c', stdin: 'one\ntwo\nrest' });
  assert.match(r2.structured.output, /^got:one,two\n\s*4\n$/);
});

test('send_input writes to a kept-open stdin and returns what followed; refused when stdin is closed', async () => {
  const r = await bridge.call('run_command', { command: 'while read -r l; do echo "echo:$l"; done; echo bye', keep_stdin_open: true, yield_ms: 100 });
  assert.equal(r.structured.status, 'running');
  const id = r.structured.process_id;
  const s = await bridge.call('send_input', { process_id: id, text: 'abc\n', wait_ms: 300 });
  assert.equal(s.isError, false, s.text);
  let seen = s.structured.output as string;
  for (let i = 0; i < 20 && !seen.includes('echo:abc'); i++) seen += (await bridge.call('get_output', { process_id: id, wait_ms: 2_000 })).structured.output;
  assert.match(seen, /echo:abc\n/);
  const stop = await bridge.call('stop_process', { process_id: id });
  assert.equal(stop.structured.status, 'killed');

  const closed = await bridge.call('run_command', { command: 'sleep 5', yield_ms: 0 });
  const refused = await bridge.call('send_input', { process_id: closed.structured.process_id, text: 'x\n' });
  assert.equal(refused.isError, true);
  assert.match(refused.text, /stdin is closed/);
  assert.match(refused.text, /keep_stdin_open/);
  await bridge.call('stop_process', { process_id: closed.structured.process_id, signal: 'SIGKILL' });
});

test('tty: output has no ANSI sequences, send_input answers a prompt', async () => {
  const r = await bridge.call('run_command', { command: 'printf "\\033[31mred\\033[0m\\n"; read -r -p "name? " n; echo "hello $n"', tty: true, yield_ms: 300 });
  const id = r.structured.process_id;
  let seen = r.structured.output as string;
  for (let i = 0; i < 20 && !seen.includes('name?'); i++) seen += (await bridge.call('get_output', { process_id: id, wait_ms: 2_000 })).structured.output;
  const s = await bridge.call('send_input', { process_id: id, text: 'world\n', wait_ms: 300 });
  seen += s.structured.output;
  const { last, output } = s.structured.status === 'running' ? await untilEnded(bridge, id) : { last: s, output: '' };
  seen += output;
  assert.ok(!seen.includes('\x1b'), JSON.stringify(seen));
  assert.match(seen, /red\n/);
  assert.match(seen, /hello world/);
  assert.equal(last.structured.exit_code, 0);
});

test('stop_process stops the whole group (a grandchild dies too) and returns the tail of the output', async () => {
  const r = await bridge.call('run_command', { command: 'sleep 300 & echo "child=$!"; echo tail-line; wait', yield_ms: 500 });
  let seen = r.structured.output as string;
  for (let i = 0; i < 20 && !seen.includes('tail-line'); i++) seen += (await bridge.call('get_output', { process_id: r.structured.process_id, wait_ms: 5_000 })).structured.output;
  const m = /child=(\d+)/.exec(seen);
  assert.ok(m, seen);
  const grandchild = Number(m[1]);
  assert.ok(isAlive(grandchild));
  const s = await bridge.call('stop_process', { process_id: r.structured.process_id });
  assert.equal(s.isError, false, s.text);
  assert.equal(s.structured.status, 'killed');
  assert.match(s.structured.output, /tail-line/);
  await waitGone(grandchild);
  await waitGone(r.structured.pid);
  // Stopping an ended process is fine: it reports the final state.
  const again = await bridge.call('stop_process', { process_id: r.structured.process_id });
  assert.equal(again.structured.status, 'killed');
});

test('list_processes lists this agent’s processes, running only unless include_finished', async () => {
  const run = await bridge.call('run_command', { command: 'sleep 30', yield_ms: 0, description: 'a sleeper' });
  const id = run.structured.process_id;
  const l = await bridge.call('list_processes', {});
  assert.equal(l.isError, false, l.text);
  const mine = l.structured.processes.find((p: any) => p.process_id === id);
  assert.ok(mine);
  assert.equal(mine.command, 'sleep 30');
  assert.equal(mine.cwd, work);
  assert.equal(mine.status, 'running');
  assert.equal(mine.tty, false);
  assert.equal(mine.description, 'a sleeper');
  assert.ok(!Number.isNaN(Date.parse(mine.started_at)));
  assert.ok(l.structured.processes.every((p: any) => p.status === 'running'));
  await bridge.call('stop_process', { process_id: id });
  const all = await bridge.call('list_processes', { include_finished: true });
  assert.ok(all.structured.processes.some((p: any) => p.process_id === id && p.status === 'killed'));
  assert.ok(all.structured.processes.some((p: any) => p.status === 'exited'));
});

test('long output: head and tail with a marker, and paging by cursor gives back every byte', async () => {
  const expected = Array.from({ length: 20_000 }, (_, i) => `line ${i + 1}`).join('\n') + '\n';
  const r = await bridge.call('run_command', { yield_ms: 30_000, command: 'seq -f "line %g" 1 20000', max_output_chars: 2_000 });
  assert.equal(r.structured.status, 'exited');
  assert.equal(r.structured.truncated, true);
  const out = r.structured.output as string;
  assert.ok(out.length <= 2_000, `${out.length} chars`);
  assert.ok(out.startsWith('line 1\nline 2\n'));
  assert.ok(out.endsWith('line 20000\n'));
  const marker = /\[… (\d+) bytes \((\d+) lines\) left out here; get_output with cursor=(\d+) pages through them …\]/.exec(out);
  assert.ok(marker, out.slice(0, 1200));
  assert.equal(r.structured.next_cursor, Buffer.byteLength(expected));
  // Page through everything from 0.
  let text = '';
  let cursor = 0;
  for (let i = 0; i < 500; i++) {
    const p = await bridge.call('get_output', { process_id: r.structured.process_id, cursor, max_output_chars: 20_000 });
    const page = p.structured.output as string;
    text += p.structured.truncated ? page.replace(/\n\[… \d+ more bytes; get_output with cursor=\d+ continues …\]\n$/, '') : page;
    cursor = p.structured.next_cursor;
    if (!p.structured.truncated) break;
  }
  assert.equal(text, expected);
  // The marker's cursor starts exactly where the head stopped.
  const mid = await bridge.call('get_output', { process_id: r.structured.process_id, cursor: Number(marker[3]), max_output_chars: 1_000 });
  assert.ok(expected.slice(Buffer.byteLength(out.slice(0, out.indexOf('[…')))).startsWith(mid.structured.output.split('\n[…')[0]));
});

test('get_output long-polls for new output and returns what it has; nothing new and wait_ms 0 returns at once', async () => {
  // The shell's login profile may take a while: wait for "one" (bounded), then for "two".
  const r = await bridge.call('run_command', { command: 'echo one; sleep 1; echo two; sleep 30', yield_ms: 0 });
  const id = r.structured.process_id;
  let first = r.structured.output as string;
  for (let i = 0; i < 20 && first === ''; i++) first += (await bridge.call('get_output', { process_id: id, wait_ms: 5_000 })).structured.output;
  assert.equal(first, 'one\n');
  const g = await bridge.call('get_output', { process_id: id, wait_ms: 10_000 });
  assert.equal(g.structured.output, 'two\n');
  assert.equal(g.structured.status, 'running');
  const empty = await bridge.call('get_output', { process_id: id, wait_ms: 0 });
  assert.equal(empty.structured.output, '');
  assert.equal(empty.structured.next_cursor, g.structured.next_cursor);
  const again = await bridge.call('get_output', { process_id: id, cursor: 0 });
  assert.equal(again.structured.output, 'one\ntwo\n');
  await bridge.call('stop_process', { process_id: id, signal: 'SIGKILL' });
});

test('bad arguments are tool errors that say what is wrong, and nothing is started', async () => {
  const before = (await bridge.call('list_processes', { include_finished: true })).structured.processes.length;
  const cases: Array<[Record<string, unknown>, RegExp]> = [
    [{}, /command/],
    [{ command: 42 }, /command/],
    [{ command: '' }, /command/],
    [{ command: 'true', cwd: '/no/such/dir' }, /does not exist/],
    [{ command: 'true', timeout_ms: -5 }, /timeout_ms/],
    [{ command: 'true', env: { 'A=B': 'x' } }, /variable name/],
    [{ command: 'true', env: { A: 1 } }, /env/],
    [{ command: 'true', tty: 'yes' }, /tty/],
  ];
  for (const [args, re] of cases) {
    const r = await bridge.call('run_command', args);
    assert.equal(r.isError, true, JSON.stringify(args));
    assert.match(r.text, re, JSON.stringify(args));
  }
  const gone = await bridge.call('get_output', { process_id: 'p9999' });
  assert.equal(gone.isError, true);
  assert.match(gone.text, /no process "p9999"/);
  const badSignal = await bridge.call('stop_process', { process_id: 'p1', signal: 'SIGHUP' });
  assert.equal(badSignal.isError, true);
  const after = (await bridge.call('list_processes', { include_finished: true })).structured.processes.length;
  assert.equal(after, before);
});

test('a command the server cannot spawn is failed_to_start, a tool error with the reason', async () => {
  // One environment string longer than the kernel's per-string limit (128 KiB): execve fails with E2BIG.
  const r = await bridge.call('run_command', { command: 'echo never', env: { HUGE: 'x'.repeat(200_000) } });
  assert.equal(r.isError, true);
  assert.equal(r.structured.status, 'failed_to_start');
  assert.equal(r.structured.pid, 0);
  assert.ok(r.structured.output.length > 0, 'the reason is given');
  assert.ok(!r.structured.output.includes('never'));
});

test('an unknown method such as server/discover is answered -32601', async () => {
  await assert.rejects(
    bridge.client.request({ method: 'server/discover', params: {} }, z.object({}).passthrough()),
    (err: unknown) => err instanceof McpError && err.code === -32601,
  );
});

test('every call is bounded: a long wait on a silent process returns (still running) within the call budget', async () => {
  const quick = await inMemoryBridge({
    url: server.url,
    tokenFile: writeTokenFile(server.token!),
    cwd: work,
    env: cleanEnv(),
    callBudgetMs: 1_000,
  });
  try {
    const r = await quick.call('run_command', { command: 'sleep 30', yield_ms: 30_000 }, 10_000);
    assert.equal(r.structured.status, 'running');
    const g = await quick.call('get_output', { process_id: r.structured.process_id, wait_ms: 30_000 }, 10_000);
    assert.equal(g.structured.status, 'running');
  } finally {
    await quick.close();
  }
});

test('output beyond what the bridge keeps is reported as evicted_bytes', async () => {
  const small = await inMemoryBridge({ url: server.url, tokenFile: writeTokenFile(server.token!), cwd: work, env: cleanEnv(), outputCapBytes: 64 * 1024 });
  try {
    const r = await small.call('run_command', { yield_ms: 30_000, command: 'head -c 400000 /dev/zero | tr "\\0" a; echo; echo the-end' });
    assert.equal(r.structured.status, 'exited');
    assert.ok(r.structured.evicted_bytes > 300_000, `evicted ${r.structured.evicted_bytes}`);
    assert.match(r.structured.output, /the-end\n$/);
    assert.ok(r.structured.output.length <= 20_000);
  } finally {
    await small.close();
  }
});
