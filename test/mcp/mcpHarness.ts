/**
 * What the MCP bridge tests share: an SDK client wired to a bridge in memory or to
 * `node dist/cli.js mcp` over stdio, typed tool calls, and /proc ancestry.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { ReadBuffer, serializeMessage } from '@modelcontextprotocol/sdk/shared/stdio.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import { ListRootsRequestSchema, type CallToolResult, type JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import { createBridge } from '../../src/mcp/createBridge';
import type { BridgeOptions, BridgeSession } from '../../src/mcp/bridgeSession';
import { CLI } from '../helpers/cli';
import { procStat, type ProcessGuard } from '../helpers/procs';

export interface ToolOut {
  isError: boolean;
  text: string;
  structured: Record<string, any>;
}

export interface McpHandle {
  client: Client;
  call(name: string, args: Record<string, unknown>, timeoutMs?: number): Promise<ToolOut>;
  close(): Promise<void>;
}

function wrap(client: Client, close: () => Promise<void>): McpHandle {
  return {
    client,
    async call(name, args, timeoutMs = 45_000) {
      const r = (await client.callTool({ name, arguments: args }, undefined, { timeout: timeoutMs })) as CallToolResult;
      const text = r.content.map((c) => (c.type === 'text' ? c.text : '')).join('');
      return { isError: r.isError === true, text, structured: (r.structuredContent ?? {}) as Record<string, any> };
    },
    close,
  };
}

export interface InMemoryBridge extends McpHandle {
  session: BridgeSession;
}

/** The SDK client against a bridge in this process (InMemoryTransport). */
export async function inMemoryBridge(o: BridgeOptions & { clientName?: string; roots?: string[] } = {}): Promise<InMemoryBridge> {
  const { mcp, session } = createBridge(o);
  const [a, b] = InMemoryTransport.createLinkedPair();
  const client = new Client({ name: o.clientName ?? 'bridge-test', version: '1.0.0' }, { capabilities: o.roots ? { roots: { listChanged: true } } : {} });
  if (o.roots) {
    const roots = o.roots;
    client.setRequestHandler(ListRootsRequestSchema, async () => ({ roots: roots.map((r) => ({ uri: `file://${r}`, name: path.basename(r) })) }));
  }
  await mcp.connect(b);
  await client.connect(a);
  const h = wrap(client, async () => {
    await session.shutdown();
    await client.close();
    await mcp.close();
  });
  return { ...h, session };
}

/** A minimal stdio transport over a child we spawned ourselves, so a test controls its stdin and signals. */
export class ChildTransport implements Transport {
  onmessage?: (m: JSONRPCMessage) => void;
  onclose?: () => void;
  onerror?: (e: Error) => void;
  private readonly buf = new ReadBuffer();
  constructor(readonly child: ChildProcess) {}
  async start(): Promise<void> {
    this.child.stdout!.on('data', (d: Buffer) => {
      this.buf.append(d);
      for (let m = this.buf.readMessage(); m; m = this.buf.readMessage()) this.onmessage?.(m);
    });
    this.child.once('exit', () => this.onclose?.());
    this.child.stdin!.on('error', () => undefined);
  }
  async send(m: JSONRPCMessage): Promise<void> {
    this.child.stdin!.write(serializeMessage(m));
  }
  async close(): Promise<void> {
    this.child.stdin!.end();
  }
}

export interface StdioBridge extends McpHandle {
  child: ChildProcess;
  stderr(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** `node dist/cli.js mcp ARGS` as an agent would start it, with the SDK client over its stdio. */
export async function stdioBridge(
  guard: ProcessGuard,
  o: { args?: string[]; env?: NodeJS.ProcessEnv; cwd?: string; clientName?: string; connect?: boolean } = {},
): Promise<StdioBridge> {
  const child = spawn(process.execPath, [CLI, 'mcp', ...(o.args ?? [])], {
    stdio: ['pipe', 'pipe', 'pipe'],
    env: o.env ?? cleanEnv(),
    cwd: o.cwd,
  });
  guard.track(child.pid!);
  let err = '';
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) => child.once('exit', (code, signal) => r({ code, signal })));
  guard.onCleanup(async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGKILL');
    await exited;
  });
  const client = new Client({ name: o.clientName ?? 'bridge-stdio-test', version: '1.0.0' });
  if (o.connect !== false) await client.connect(new ChildTransport(child));
  const h = wrap(client, async () => {
    child.stdin!.end();
    await exited;
  });
  // A failed call says what the bridge logged (how it resolved and connected to the server).
  const call: McpHandle['call'] = (name, args, timeoutMs) =>
    h.call(name, args, timeoutMs).catch((e: Error) => {
      throw new Error(`${name} failed: ${e.message}; bridge stderr: ${err.trim() || '(empty)'}`);
    });
  return { ...h, call, child, stderr: () => err, exited };
}

/**
 * The environment an agent that passes only the basics gives its MCP servers (no EXEC_SERVER_*),
 * with a HOME of its own: commands run in a login shell (`bash -lc`), and the machine's own
 * profile is not part of what these tests check. It can be slow (pyenv's `rehash` at every
 * shell), and a command stopped while that profile runs (timeout_ms, stop_process) can leave
 * pyenv's lock behind, after which every login shell of the user waits 60 s for it.
 */
export function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const k of ['PATH', 'SHELL', 'USER', 'LOGNAME', 'LANG', 'TMPDIR']) if (process.env[k] !== undefined) env[k] = process.env[k];
  return { ...env, HOME: testHome(), ...extra };
}

let home: string | undefined;
function testHome(): string {
  if (!home) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mcp-home-'));
    process.on('exit', () => fs.rmSync(dir, { recursive: true, force: true }));
    home = dir;
  }
  return home;
}

/** pid's ancestors, nearest first (from /proc). */
export function ancestorsOf(pid: number): number[] {
  const out: number[] = [];
  let cur = procStat(pid)?.ppid;
  for (let i = 0; i < 100 && cur && cur > 1; i++) {
    out.push(cur);
    cur = procStat(cur)?.ppid;
  }
  return out;
}

export function tempDir(prefix: string): string {
  return fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), prefix)));
}

/** get_output until the process has ended (bounded by `rounds` long-polls). */
export async function untilEnded(h: McpHandle, processId: string, rounds = 12): Promise<{ last: ToolOut; output: string }> {
  let output = '';
  for (let i = 0; i < rounds; i++) {
    const r = await h.call('get_output', { process_id: processId, wait_ms: 10_000 });
    if (r.isError) throw new Error(r.text);
    output += r.structured.output;
    if (r.structured.status !== 'running') return { last: r, output };
  }
  throw new Error(`process ${processId} still running after ${rounds} get_output calls`);
}
