// Anthropic Messages API (POST /v1/messages), as Claude Code 2.1 reads it: SSE when
// `stream: true`, else one JSON message. POST /v1/messages/count_tokens gets a fixed count.
// Side requests (no tools: quota probe, title) get a short text.
import { contentText, sendJson, sendSse } from './wire.mjs';

export const name = 'anthropic';
export const matches = (method, path) => method === 'POST' && /\/messages(\/count_tokens)?$/.test(path);

export const offeredTools = (body) => (Array.isArray(body?.tools) ? body.tools.map((t) => t?.name).filter(Boolean) : []);

export const isSideRequest = (path, body) => path.endsWith('/count_tokens') || offeredTools(body).length === 0;

export function toolResults(body) {
  const names = new Map();
  const out = [];
  for (const m of Array.isArray(body?.messages) ? body.messages : []) {
    for (const c of Array.isArray(m?.content) ? m.content : []) {
      if (c?.type === 'tool_use') names.set(c.id, c.name);
      if (c?.type === 'tool_result') out.push({ callId: c.tool_use_id, name: names.get(c.tool_use_id) ?? null, text: contentText(c.content), isError: c.is_error === true });
    }
  }
  return out;
}

export function answerSide(res, path, body) {
  if (path.endsWith('/count_tokens')) return sendJson(res, { input_tokens: 10 });
  reply(res, body, [{ type: 'text', text: 'ok' }], 'end_turn', 'side');
}

/**
 * @param {import('node:http').ServerResponse} res
 * @param {any} step one entry of the script: {tool, args} or {text}
 * @param {import('./wire.mjs').Turn} t
 */
export function answer(res, step, { turn, body }) {
  if (step.tool) reply(res, body, [{ type: 'tool_use', id: `toolu_mock_${turn + 1}`, name: step.tool, input: step.args ?? {} }], 'tool_use', turn + 1);
  else reply(res, body, [{ type: 'text', text: step.text }], 'end_turn', turn + 1);
}

function reply(res, body, content, stopReason, id) {
  const usage = { input_tokens: 10, output_tokens: 5, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 };
  const message = { id: `msg_mock_${id}`, type: 'message', role: 'assistant', model: body?.model ?? 'mock-model', content, stop_reason: stopReason, stop_sequence: null, usage };
  if (body?.stream !== true) return sendJson(res, message);
  /** @type {[string, object][]} */
  const events = [['message_start', { type: 'message_start', message: { ...message, content: [], stop_reason: null, usage: { ...usage, output_tokens: 1 } } }]];
  content.forEach((block, index) => {
    if (block.type === 'tool_use') {
      events.push(
        ['content_block_start', { type: 'content_block_start', index, content_block: { ...block, input: {} } }],
        ['content_block_delta', { type: 'content_block_delta', index, delta: { type: 'input_json_delta', partial_json: JSON.stringify(block.input) } }],
      );
    } else {
      events.push(
        ['content_block_start', { type: 'content_block_start', index, content_block: { type: 'text', text: '' } }],
        ['content_block_delta', { type: 'content_block_delta', index, delta: { type: 'text_delta', text: block.text } }],
      );
    }
    events.push(['content_block_stop', { type: 'content_block_stop', index }]);
  });
  events.push(
    ['message_delta', { type: 'message_delta', delta: { stop_reason: stopReason, stop_sequence: null }, usage: { output_tokens: 5 } }],
    ['message_stop', { type: 'message_stop' }],
  );
  sendSse(res, events);
}
