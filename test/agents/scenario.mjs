// One real-agent run: a fresh world (HOME, workspace, discovery dir), our exec server advertised
// there, the scripted mock model, the agent CLI configured by `configure`; everything stopped by
// PID afterwards. Returns what the tests assert on.
import { readFileSync } from 'node:fs';
import { startMockModel } from './mocks/mockModel.mjs';
import { advertise, bridgePids, runAgent, startExecServer, tempWorld } from './harness.mjs';

/**
 * @param {{agent: object, bin: string, label: string,
 *          script: (ctx: {world: object}) => object[],
 *          setup?: (world: object, server: object) => (void|Promise<void>),
 *          configure: (ctx: {world, bin, mockUrl}) => {argv: string[], env: object},
 *          discoveryDir?: (world: object) => string | null,   // null: advertise nowhere
 *          after?: (world: object) => any,   // runs before the world is removed; result in `after`
 *          timeoutMs?: number}} o
 */
export async function runScenario(o) {
  const world = tempWorld(o.label);
  let server;
  let model;
  let run;
  const bridges = new Map(); // pid -> environment variable names, seen while the agent ran
  try {
    server = await startExecServer(world);
    const dir = o.discoveryDir ? o.discoveryDir(world) : world.discovery;
    if (dir) advertise(server, dir, [world.workspace]);
    if (o.setup) await o.setup(world, server);
    model = await startMockModel({
      script: o.script({ world }),
      // At each scripted turn the agent is alive, and so is its bridge: note the bridge's pid and
      // which variables it was given (to prove no URL/token variable reached it).
      onTurn: () => {
        if (!run) return;
        for (const pid of bridgePids(run.pid)) {
          if (bridges.has(pid)) continue;
          let names = [];
          try {
            names = readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0').filter(Boolean).map((kv) => kv.split('=')[0]);
          } catch {}
          bridges.set(pid, names);
        }
      },
    });
    const { argv, env } = o.configure({ world, bin: o.bin, mockUrl: model.url });
    run = runAgent({ argv, env, cwd: world.workspace, timeoutMs: o.timeoutMs ?? 120_000 });
    const result = await run.result;
    const after = o.after ? await o.after(world) : undefined;
    return { world, server, model, result, bridges, after, toolResults: model.toolResults(), turns: model.turnRequests(), serverPid: server.pid };
  } finally {
    run?.kill();
    await model?.close();
    await server?.stop();
    world.cleanup();
  }
}

/** A compact description of a run for assertion messages. */
export function describeRun(s) {
  return JSON.stringify(
    {
      code: s.result.code,
      signal: s.result.signal,
      timedOut: s.result.timedOut,
      ms: s.result.ms,
      toolResults: s.toolResults,
      turns: s.turns.map((t) => ({ turn: t.turn, path: t.path, step: t.step })),
      stdoutTail: s.result.stdout.slice(-1500),
      stderrTail: s.result.stderr.slice(-1500),
    },
    null,
    1,
  );
}
