// Small helpers shared by the mock APIs: SSE/JSON replies and tool-result text.

/**
 * What each API's answer() is told about the request it answers: the turn (how many tool results
 * the request carried), the parsed JSON body and the URL path.
 * @typedef {{ turn: number, body: any, path: string }} Turn
 */

/** Text of a tool result's content in any of the shapes the APIs use. */
export function contentText(c) {
  if (c == null) return '';
  if (typeof c === 'string') return c;
  if (Array.isArray(c)) return c.map(contentText).join('');
  if (typeof c === 'object') {
    if (typeof c.text === 'string') return c.text;
    if ('content' in c) return contentText(c.content);
    return JSON.stringify(c);
  }
  return String(c);
}

/** Writes an SSE response: events = [[eventName|null, data], …]. */
export function sendSse(res, events, { crlf = false } = {}) {
  const nl = crlf ? '\r\n' : '\n';
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'close' });
  for (const [event, data] of events) {
    res.write(`${event ? `event: ${event}${nl}` : ''}data: ${typeof data === 'string' ? data : JSON.stringify(data)}${nl}${nl}`);
  }
  res.end();
}

export function sendJson(res, value) {
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end(JSON.stringify(value));
}
