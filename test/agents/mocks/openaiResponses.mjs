// OpenAI Responses API (POST /v1/responses, SSE), as codex 0.171 and Copilot CLI read it.
// The full event sequence is sent (Copilot CLI needs more than codex's created/item.done/completed).
// A step {tool, namespace?} becomes a function_call item; codex 0.171 wants MCP tools called as
// {namespace: "mcp__S", name: "T"} (a flat "mcp__S__T" is "unsupported call").
import { contentText, sendJson, sendSse } from './wire.mjs';

export const name = 'responses';
export const matches = (method, path) => method === 'POST' && path.endsWith('/responses');

const USAGE = { input_tokens: 10, input_tokens_details: { cached_tokens: 0 }, output_tokens: 5, output_tokens_details: { reasoning_tokens: 0 }, total_tokens: 15 };

export function offeredTools(body) {
  const out = [];
  for (const t of Array.isArray(body?.tools) ? body.tools : []) {
    if (t?.type === 'namespace' && Array.isArray(t.tools)) for (const u of t.tools) out.push(`${t.name}__${u.name}`);
    else if (t?.name) out.push(t.name);
  }
  return out;
}

export const isSideRequest = (_path, body) => offeredTools(body).length === 0;

export function toolResults(body) {
  const calls = new Map();
  const out = [];
  for (const item of Array.isArray(body?.input) ? body.input : []) {
    if (item?.type === 'function_call') calls.set(item.call_id, item.namespace ? `${item.namespace}__${item.name}` : item.name);
    if (item?.type === 'function_call_output') {
      out.push({ callId: item.call_id, name: calls.get(item.call_id) ?? null, text: contentText(item.output), isError: false });
    }
  }
  return out;
}

export function answerSide(res, _path, body) {
  if (body?.stream === false) return sendJson(res, { id: 'resp_side', object: 'response', status: 'completed', output: [message('side', 'ok')], usage: USAGE });
  answerWith(res, message('side', 'ok'), 'side');
}

function message(id, text) {
  return { type: 'message', id: `msg_${id}`, status: 'completed', role: 'assistant', content: [{ type: 'output_text', text, annotations: [] }] };
}

/**
 * @param {import('node:http').ServerResponse} res
 * @param {any} step one entry of the script: {tool, args} or {text}
 * @param {import('./wire.mjs').Turn} t
 */
export function answer(res, step, { turn }) {
  const item = step.tool
    ? {
        type: 'function_call',
        id: `fc_${turn + 1}`,
        call_id: `call_mock_${turn + 1}`,
        ...(step.namespace ? { namespace: step.namespace } : {}),
        name: step.tool,
        arguments: JSON.stringify(step.args ?? {}),
        status: 'completed',
      }
    : message(turn + 1, step.text);
  answerWith(res, item, String(turn + 1));
}

function answerWith(res, item, id) {
  const respId = `resp_${id}`;
  let seq = 0;
  const ev = (type, data) => [type, { type, sequence_number: seq++, ...data }];
  const base = { id: respId, object: 'response', created_at: Math.floor(Date.now() / 1000), model: 'mock-model' };
  const events = [ev('response.created', { response: { ...base, status: 'in_progress', output: [] } }), ev('response.in_progress', { response: { ...base, status: 'in_progress', output: [] } })];
  if (item.type === 'function_call') {
    events.push(
      ev('response.output_item.added', { output_index: 0, item: { ...item, arguments: '', status: 'in_progress' } }),
      ev('response.function_call_arguments.delta', { item_id: item.id, output_index: 0, delta: item.arguments }),
      ev('response.function_call_arguments.done', { item_id: item.id, output_index: 0, arguments: item.arguments }),
    );
  } else {
    const text = item.content[0].text;
    const part = { type: 'output_text', text: '', annotations: [] };
    events.push(
      ev('response.output_item.added', { output_index: 0, item: { ...item, status: 'in_progress', content: [] } }),
      ev('response.content_part.added', { item_id: item.id, output_index: 0, content_index: 0, part }),
      ev('response.output_text.delta', { item_id: item.id, output_index: 0, content_index: 0, delta: text }),
      ev('response.output_text.done', { item_id: item.id, output_index: 0, content_index: 0, text }),
      ev('response.content_part.done', { item_id: item.id, output_index: 0, content_index: 0, part: { ...part, text } }),
    );
  }
  events.push(
    ev('response.output_item.done', { output_index: 0, item }),
    ev('response.completed', { response: { ...base, status: 'completed', output: [item], usage: USAGE } }),
  );
  sendSse(res, events);
}
