// A stand-alone agent process, for the in-host tests and the extension benchmark: it connects to
// the exec server the way a real agent does (another process, over the WebSocket), starts one
// process, reads all of its output, and reports on stdout, one JSON object per line:
//   {"event":"started","pid":N}  {"event":"progress","bytes":N}  {"event":"closed","exitCode":N,"signal":S,"bytes":N}
// Being a separate process matters for a flood: the output an agent receives (and decodes) must
// not be charged to the extension host being measured.
//
//   EXEC_AGENT_TOKEN=… node out/test/vscode/suite/agent.js <url> <argv as JSON> <processId> [reportEveryBytes]
//
// The token comes in the environment, never on the command line (readable by any local user);
// EXEC_AGENT_CLIENT_NAME names the client (default `agent-process`).
// The agent exits when its stdin closes, so it never outlives the test or benchmark that started it.
import { ExecClient } from '../../../src/client/client';

async function main(): Promise<number> {
  const [url, argvJson, processId, every] = process.argv.slice(2);
  const token = process.env.EXEC_AGENT_TOKEN;
  if (!url || !argvJson || !processId || !token) {
    process.stderr.write('usage: EXEC_AGENT_TOKEN=… agent.js <url> <argv JSON> <processId> [reportEveryBytes]\n');
    return 2;
  }
  const reportEvery = Number(every) > 0 ? Number(every) : 8 * 1024 * 1024;
  const say = (o: object) => process.stdout.write(`${JSON.stringify(o)}\n`);
  process.stdin.on('end', () => process.exit(0));
  process.stdin.resume();

  const client = await ExecClient.connectWebSocket(url, { token, clientName: process.env.EXEC_AGENT_CLIENT_NAME || 'agent-process' });
  let bytes = 0;
  let next = reportEvery;
  client.on('output', (e: { processId: string; data: Buffer }) => {
    if (e.processId !== processId) return;
    bytes += e.data.length;
    if (bytes >= next) {
      say({ event: 'progress', bytes });
      next = bytes + reportEvery;
    }
  });
  const started = await client.start({ processId, argv: JSON.parse(argvJson) as string[] });
  say({ event: 'started', pid: started.pid });
  const exit = await client.wait(processId);
  say({ event: 'closed', exitCode: exit.exitCode, signal: exit.signal, bytes });
  client.close();
  return 0;
}

main().then(
  (code) => process.exit(code),
  (err: Error) => {
    process.stderr.write(`agent: ${err.message}\n`);
    process.exit(1);
  },
);
