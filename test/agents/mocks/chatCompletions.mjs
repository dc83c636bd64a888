// OpenAI Chat Completions (POST /v1/chat/completions, SSE), as opencode (@ai-sdk/openai-compatible)
// and Copilot CLI read it. Requests without tools (opencode's title call) are side requests.
import { contentText, sendJson, sendSse } from './wire.mjs';

export const name = 'chat';
export const matches = (method, path) => method === 'POST' && path.endsWith('/chat/completions');

export const offeredTools = (body) => (Array.isArray(body?.tools) ? body.tools.map((t) => t?.function?.name ?? t?.name).filter(Boolean) : []);

export const isSideRequest = (_path, body) => offeredTools(body).length === 0;

export function toolResults(body) {
  const names = new Map();
  const out = [];
  for (const m of Array.isArray(body?.messages) ? body.messages : []) {
    for (const tc of Array.isArray(m?.tool_calls) ? m.tool_calls : []) names.set(tc.id, tc.function?.name);
    if (m?.role === 'tool') out.push({ callId: m.tool_call_id, name: names.get(m.tool_call_id) ?? null, text: contentText(m.content), isError: false });
  }
  return out;
}

export function answerSide(res, _path, body) {
  reply(res, body, { content: 'ok' }, 'stop', 'side');
}

/**
 * @param {import('node:http').ServerResponse} res
 * @param {any} step one entry of the script: {tool, args} or {text}
 * @param {import('./wire.mjs').Turn} t
 */
export function answer(res, step, { turn, body }) {
  if (step.tool) {
    const call = { index: 0, id: `call_mock_${turn + 1}`, type: 'function', function: { name: step.tool, arguments: JSON.stringify(step.args ?? {}) } };
    reply(res, body, { tool_calls: [call] }, 'tool_calls', turn + 1);
  } else {
    reply(res, body, { content: step.text }, 'stop', turn + 1);
  }
}

function reply(res, body, delta, finish, id) {
  const base = { id: `chatcmpl_${id}`, created: Math.floor(Date.now() / 1000), model: body?.model ?? 'mock-model' };
  const usage = { prompt_tokens: 10, completion_tokens: 5, total_tokens: 15 };
  if (body?.stream !== true) {
    return sendJson(res, { ...base, object: 'chat.completion', choices: [{ index: 0, message: { role: 'assistant', content: delta.content ?? null, tool_calls: delta.tool_calls?.map(({ index, ...c }) => c) }, finish_reason: finish }], usage });
  }
  const chunk = (d, f) => ({ ...base, object: 'chat.completion.chunk', choices: [{ index: 0, delta: d, finish_reason: f }] });
  sendSse(res, [
    [null, chunk({ role: 'assistant', ...delta }, null)],
    [null, chunk({}, finish)],
    [null, { ...base, object: 'chat.completion.chunk', choices: [], usage }],
    [null, '[DONE]'],
  ]);
}
