// Gemini API v1beta, as Gemini CLI 0.61 reads it:
//   POST …/models/M:streamGenerateContent?alt=sse   the main turn (SSE, one chunk per answer)
//   POST …/models/M:generateContent                 JSON-mode side calls: the model router
//        ({complexity_reasoning, complexity_score}) and the next-speaker check ({reasoning,
//        next_speaker}); one JSON object answers both.
//   POST …/models/M:countTokens
import { sendJson, sendSse } from './wire.mjs';

export const name = 'gemini';
export const matches = (method, path) => method === 'POST' && /\/models\/[^/]+:(streamGenerateContent|generateContent|countTokens)$/.test(path);

export function offeredTools(body) {
  const out = [];
  for (const t of Array.isArray(body?.tools) ? body.tools : []) for (const f of t?.functionDeclarations ?? []) if (f?.name) out.push(f.name);
  return out;
}

export const isSideRequest = (path) => !path.endsWith(':streamGenerateContent');

export function toolResults(body) {
  const out = [];
  for (const c of Array.isArray(body?.contents) ? body.contents : []) {
    for (const p of Array.isArray(c?.parts) ? c.parts : []) {
      const fr = p?.functionResponse;
      if (!fr) continue;
      const r = fr.response ?? {};
      const text = typeof r.output === 'string' ? r.output : typeof r.error === 'string' ? r.error : JSON.stringify(r);
      out.push({ callId: fr.id ?? null, name: fr.name ?? null, text, isError: r.error !== undefined });
    }
  }
  return out;
}

const USAGE = { promptTokenCount: 10, candidatesTokenCount: 5, totalTokenCount: 15 };

export function answerSide(res, path) {
  if (path.endsWith(':countTokens')) return sendJson(res, { totalTokens: 10 });
  const json = { complexity_reasoning: 'a simple scripted task', complexity_score: 1, reasoning: 'the task is done', next_speaker: 'user' };
  sendJson(res, { candidates: [{ content: { role: 'model', parts: [{ text: JSON.stringify(json) }] }, finishReason: 'STOP', index: 0 }], usageMetadata: USAGE, modelVersion: 'mock-model' });
}

/**
 * @param {import('node:http').ServerResponse} res
 * @param {any} step one entry of the script: {tool, args} or {text}
 * @param {import('./wire.mjs').Turn} t
 */
export function answer(res, step, { turn }) {
  const part = step.tool ? { functionCall: { id: `call_mock_${turn + 1}`, name: step.tool, args: step.args ?? {} } } : { text: step.text };
  sendSse(res, [[null, { candidates: [{ content: { role: 'model', parts: [part] }, finishReason: 'STOP', index: 0 }], usageMetadata: USAGE, modelVersion: 'mock-model' }]], { crlf: true });
}
