// One scripted mock model server on 127.0.0.1 that speaks the four wire APIs the agent CLIs use:
//
//   POST /v1/responses                                  OpenAI Responses, SSE (codex, Copilot CLI)
//   POST /v1/messages (+ /v1/messages/count_tokens)     Anthropic Messages, SSE or JSON (Claude Code)
//   POST /v1beta/models/M:streamGenerateContent?alt=sse Gemini, SSE (Gemini CLI's main turn)
//   POST /v1beta/models/M:generateContent               Gemini, JSON mode (router, next-speaker check)
//   POST /v1/chat/completions                           Chat Completions, SSE (opencode, Copilot CLI)
//   GET  …/models                                       an empty model list
//
//   const model = await startMockModel({ script: [
//     { tool: 'mcp__exec__run_command', args: { command: 'echo hi' } },   // turn 0: a tool call
//     { text: 'DONE' },                                                   // turn 1: final text
//   ] });
//   ... run the agent against model.url ...
//   model.toolResults()  // every tool result the agent sent back, in order: {callId, name, text, isError}
//   model.turnRequests() // the requests that got a scripted answer (they offered tools)
//   await model.close();
//
// Which step answers a request: the number of tool results already in the request's history
// (so a retried POST gets the same answer instead of skipping ahead); past the end of the script,
// the final text `DONE`. Only "main loop" requests get the script: those that offer tools (a
// Gemini stream request, a codex/Claude/opencode turn). Side requests (Claude's title or quota
// probes, opencode's title call, Gemini's JSON-mode router) get a short text or JSON answer.
// A step's `tool` is sent even if the request does not offer it: that is how a test makes the
// model ask for a tool the set-up removed. Every request is recorded in `requests`.
import http from 'node:http';
import * as responses from './openaiResponses.mjs';
import * as anthropic from './anthropicMessages.mjs';
import * as gemini from './geminiApi.mjs';
import * as chat from './chatCompletions.mjs';
import { readJsonBody } from '../../helpers/httpBody.mjs';

const APIS = [responses, anthropic, gemini, chat];

/**
 * @param {{script: Array<{tool: string, args?: object, namespace?: string} | {text: string}>,
 *          finalText?: string, onTurn?: (record: object) => void, log?: (s: string) => void}} o
 *   onTurn: called synchronously when a scripted request arrives (before it is answered), e.g. to
 *   look at the agent's process tree while its tool call is still fresh.
 */
export async function startMockModel({ script, finalText = 'DONE', onTurn, log = () => {} }) {
  const requests = [];
  const server = http.createServer(async (req, res) => {
    const url = new URL(/** @type {string} */ (req.url), 'http://x');
    const body = await readJsonBody(req);
    const api = APIS.find((a) => a.matches(req.method, url.pathname));
    const record = { method: req.method, path: url.pathname, query: url.search, api: api?.name ?? null, body, at: Date.now() };
    requests.push(record);
    log(`mock-model: ${req.method} ${req.url}`);

    if (req.method === 'GET' && url.pathname.startsWith('/npm/')) {
      // opencode looks its plugin package up in the registry at every start (npm_config_registry
      // points here): "not found" makes it go on without it.
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: 'Not found' }));
      return;
    }
    if (req.method === 'GET') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ data: [], models: [], object: 'list' }));
      return;
    }
    if (!api) {
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { message: `mock: no route for ${req.method} ${url.pathname}` } }));
      return;
    }
    try {
      if (api.isSideRequest(url.pathname, body)) {
        record.side = true;
        api.answerSide(res, url.pathname, body);
        return;
      }
      const results = api.toolResults(body);
      const turn = results.length;
      const step = script[turn] ?? { text: finalText };
      Object.assign(record, { turn, step, offered: api.offeredTools(body), results });
      onTurn?.(record);
      api.answer(res, step, { turn, body, path: url.pathname });
    } catch (e) {
      log(`mock-model: error ${e.stack}`);
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { message: String(e.message) } }));
    }
  });
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve(undefined));
  });
  const { port } = /** @type {import('node:net').AddressInfo} */ (server.address());
  const turnRequests = () => requests.filter((r) => r.turn !== undefined);
  return {
    port,
    url: `http://127.0.0.1:${port}`,
    requests,
    turnRequests,
    /** The tool results of the request with the longest history (each request repeats the earlier ones). */
    toolResults() {
      let best = [];
      for (const r of turnRequests()) if (r.results.length > best.length) best = r.results;
      return best;
    },
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections?.();
        server.close(() => resolve(undefined));
      }),
  };
}

export { contentText } from './wire.mjs';
