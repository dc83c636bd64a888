// A scripted mock of the OpenAI Responses API (just enough for `codex exec` 0.169), on loopback.
//
//   const model = await startMockModel([
//     { tool: 'exec_command', args: { cmd: 'echo hi', yield_time_ms: 5000 } },
//     { tool: 'write_stdin', args: (lastOutput) => ({ session_id: sessionIdFrom(lastOutput), chars: 'x\n', yield_time_ms: 1500 }) },
//     { message: 'DONE' },
//   ]);
//   ... run codex with model.baseUrl ...
//   model.toolOutputs()   // [{ callId, output }] in the order codex sent them back
//   await model.close();
//
// Routes: POST /v1/responses (SSE), GET /v1/models ({"data":[],"models":[]}); anything else 404.
// Every request is recorded in `requests` ({method, url, headers, body, at}).
//
// Turn selection is idempotent: the turn index is the number of this mock's tool calls whose
// `function_call_output` already appears in the request's `input`. A retried or duplicated POST
// therefore gets the same answer instead of skipping ahead. Once the script is exhausted (or on a
// turn `{message}`) the answer is a final assistant message, which ends the codex turn.
import http from 'node:http';
import { readJsonBody } from '../helpers/httpBody.mjs';

/** Extracts the "session ID N" that codex puts in the output of a still-running exec_command. */
export function sessionIdFrom(text) {
  const m = /session ID (\d+)/i.exec(String(text ?? ''));
  if (!m) throw new Error(`no "session ID N" in tool output: ${JSON.stringify(text)}`);
  return Number(m[1]);
}

/** function_call_output.output may be a string or a list of content items. */
export function outputText(output) {
  if (typeof output === 'string') return output;
  if (Array.isArray(output)) return output.map((c) => c?.text ?? '').join('');
  if (output && typeof output === 'object') return output.content ?? output.text ?? JSON.stringify(output);
  return String(output ?? '');
}

const USAGE = {
  input_tokens: 10,
  input_tokens_details: null,
  output_tokens: 5,
  output_tokens_details: null,
  total_tokens: 15,
};

/**
 * A step is a tool call {tool, args} (args may be a function of the last tool output) or a final {message}.
 * @param {Array<{ tool?: 'exec_command'|'write_stdin'|string, args?: object|((lastOutput: string | undefined, ctx: object) => object), message?: string }>} script
 * @param {{finalMessage?: string, log?: (s: string) => void}} [opts]
 */
export async function startMockModel(script = [], opts = {}) {
  const finalMessage = opts.finalMessage ?? 'DONE';
  const log = opts.log ?? (() => {});
  const requests = [];
  const callIds = script.map((_, i) => `call_mock_${i + 1}`);
  let responseCounter = 0;

  const server = http.createServer(async (req, res) => {
    const url = new URL(/** @type {string} */ (req.url), 'http://x');
    const body = await readJsonBody(req);
    const record = { method: req.method, url: req.url, headers: req.headers, body, at: Date.now() };
    requests.push(record);
    log(`mock-model: ${req.method} ${req.url}`);

    if (req.method === 'GET' && url.pathname.endsWith('/models')) {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ data: [], models: [] }));
      return;
    }
    if (req.method !== 'POST' || !url.pathname.endsWith('/responses')) {
      res.writeHead(404, { 'content-type': 'text/plain' });
      res.end('not found');
      return;
    }

    const input = Array.isArray(body?.input) ? body.input : [];
    const outputs = new Map();
    for (const item of input) {
      if (item?.type === 'function_call_output') outputs.set(item.call_id, outputText(item.output));
    }
    let turn = 0;
    while (turn < script.length && outputs.has(callIds[turn])) turn++;
    const lastOutput = turn > 0 ? outputs.get(callIds[turn - 1]) : undefined;
    record.turn = turn;

    const respId = `resp_${++responseCounter}`;
    let item;
    const step = script[turn];
    if (step && step.tool) {
      let args;
      try {
        args = typeof step.args === 'function' ? step.args(lastOutput, { turn, outputs, request: body }) : step.args;
      } catch (e) {
        // Surface a script error as a final message so codex ends cleanly; the test sees it.
        item = assistantMessage(`MOCK_SCRIPT_ERROR: ${e.message}`);
      }
      if (!item) {
        item = {
          type: 'function_call',
          id: `fc_${turn + 1}`,
          name: step.tool,
          arguments: JSON.stringify(args ?? {}),
          call_id: callIds[turn],
        };
      }
    } else {
      item = assistantMessage(step?.message ?? finalMessage);
    }
    record.reply = item;

    res.writeHead(200, {
      'content-type': 'text/event-stream',
      'cache-control': 'no-cache',
      connection: 'close',
    });
    const send = (type, data) => res.write(`event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`);
    send('response.created', { response: { id: respId } });
    send('response.output_item.done', { item });
    send('response.completed', { response: { id: respId, usage: USAGE } });
    res.end();

    function assistantMessage(text) {
      return {
        type: 'message',
        role: 'assistant',
        id: `msg_${turn + 1}`,
        content: [{ type: 'output_text', text }],
      };
    }
  });

  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve(undefined));
  });
  const { port } = /** @type {import('node:net').AddressInfo} */ (server.address());

  return {
    port,
    baseUrl: `http://127.0.0.1:${port}/v1`,
    requests,
    /** POST /v1/responses bodies only. */
    responseRequests: () => requests.filter((r) => r.method === 'POST' && /\/responses$/.test(new URL(r.url, 'http://x').pathname)),
    /** Every distinct function_call_output codex sent back, in order of first appearance. */
    toolOutputs() {
      const seen = new Map();
      for (const r of requests) {
        for (const item of Array.isArray(r.body?.input) ? r.body.input : []) {
          if (item?.type === 'function_call_output' && !seen.has(item.call_id)) {
            seen.set(item.call_id, { callId: item.call_id, output: outputText(item.output) });
          }
        }
      }
      return [...seen.values()];
    },
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections?.();
        server.close(() => resolve(undefined));
      }),
  };
}
