/**
 * The JSON-RPC codec (src/protocol/jsonrpc.ts): what decodeMessage makes of every kind of
 * incoming text, and the exact frames the encoders write.
 */
import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { decodeMessage, encodeError, encodeNotification, encodeOutputFrame, encodeResponse } from '../../src/protocol/jsonrpc';
import { ErrorCode } from '../../src/protocol/errors';

const invalid = (text: string) => {
  const d = decodeMessage(text);
  assert.equal(d.kind, 'invalid', `${text} → ${JSON.stringify(d)}`);
  return d as Extract<typeof d, { kind: 'invalid' }>;
};

describe('decodeMessage: requests and notifications', () => {
  it('decodes a request with a string or a number id, with or without "jsonrpc"', () => {
    assert.deepEqual(decodeMessage('{"id":"a","method":"process/start","params":{"x":1}}'), { kind: 'request', id: 'a', method: 'process/start', params: { x: 1 } });
    assert.deepEqual(decodeMessage('{"jsonrpc":"2.0","id":7,"method":"m","params":[1,2]}'), { kind: 'request', id: 7, method: 'm', params: [1, 2] });
    assert.deepEqual(decodeMessage('{"id":0,"method":"m"}'), { kind: 'request', id: 0, method: 'm', params: undefined });
    assert.deepEqual(decodeMessage('{"id":-1.5,"method":"m"}'), { kind: 'request', id: -1.5, method: 'm', params: undefined });
    assert.deepEqual(decodeMessage('{"id":"","method":""}'), { kind: 'request', id: '', method: '', params: undefined });
  });

  it('accepts null params (as absent-ish) and keeps them as sent', () => {
    assert.deepEqual(decodeMessage('{"id":1,"method":"m","params":null}'), { kind: 'request', id: 1, method: 'm', params: null });
  });

  it('decodes a message without an id as a notification', () => {
    assert.deepEqual(decodeMessage('{"method":"initialized","params":{}}'), { kind: 'notification', method: 'initialized', params: {} });
    assert.deepEqual(decodeMessage(' {"method":"initialized"} \n'), { kind: 'notification', method: 'initialized', params: undefined });
  });

  it('treats a message with a method and a result as a request, not as a response', () => {
    assert.equal(decodeMessage('{"id":1,"method":"m","result":1}').kind, 'request');
  });
});

describe('decodeMessage: what is answered with an error', () => {
  it('text that is not JSON: parse error, id null', () => {
    for (const text of ['', '{', '{"id":1,"method":"m"', 'not json', '{"id":1}x']) {
      const d = invalid(text);
      assert.equal(d.code, ErrorCode.ParseError, text);
      assert.equal(d.id, null);
      assert.match(d.message, /^parse error: /);
    }
  });

  it('a batch (any JSON array, even an empty one): invalid request, id null', () => {
    for (const text of ['[]', '[{"id":1,"method":"m"}]']) {
      const d = invalid(text);
      assert.equal(d.code, ErrorCode.InvalidRequest);
      assert.equal(d.id, null);
      assert.match(d.message, /batch/);
    }
  });

  it('JSON that is not an object: invalid request, id null', () => {
    for (const text of ['null', '1', '"id"', 'true']) {
      const d = invalid(text);
      assert.equal(d.code, ErrorCode.InvalidRequest, text);
      assert.equal(d.id, null);
      assert.equal(d.message, 'expected a JSON-RPC object');
    }
  });

  it('no method, or a method that is not a string: invalid request, answered to the id when it is usable', () => {
    assert.deepEqual(invalid('{"id":3}'), { kind: 'invalid', id: 3, code: ErrorCode.InvalidRequest, message: '`method` must be a string' });
    assert.deepEqual(invalid('{"id":"x","method":5}'), { kind: 'invalid', id: 'x', code: ErrorCode.InvalidRequest, message: '`method` must be a string' });
    assert.equal(invalid('{"id":{},"method":null}').id, null);
    assert.equal(invalid('{}').id, null);
    // A result/error without an id is not a response: just invalid.
    assert.equal(invalid('{"result":1}').id, null);
  });

  it('params that are neither an object nor an array: invalid request, with the id', () => {
    for (const p of ['"s"', '1', 'true']) {
      const d = invalid(`{"id":9,"method":"m","params":${p}}`);
      assert.equal(d.id, 9);
      assert.equal(d.code, ErrorCode.InvalidRequest);
      assert.match(d.message, /`params`/);
    }
    // Also for a notification (nothing better to answer it with than an id-less error).
    assert.equal(invalid('{"method":"m","params":2}').id, null);
  });

  it('an id that is not a string or a finite number: invalid request, id null', () => {
    for (const id of ['null', 'true', '{}', '[1]', '1e400']) {
      const d = invalid(`{"id":${id},"method":"m"}`);
      assert.equal(d.id, null, id);
      assert.equal(d.message, '`id` must be a string or a number');
    }
  });
});

describe('decodeMessage: a response from the client is a protocol violation', () => {
  it('an id with a result or an error, and no method', () => {
    for (const text of ['{"id":1,"result":{}}', '{"id":"a","error":{"code":1,"message":"x"}}', '{"id":null,"result":null}', '{"jsonrpc":"2.0","id":2,"result":null}']) {
      const d = decodeMessage(text);
      assert.equal(d.kind, 'violation', text);
      assert.match((d as { reason: string }).reason, /must not send responses/);
    }
  });
});

describe('encoders', () => {
  it('responses and errors carry no "jsonrpc"; an undefined result is sent as null', () => {
    assert.equal(encodeResponse(1, { a: 1 }), '{"id":1,"result":{"a":1}}');
    assert.equal(encodeResponse('x', undefined), '{"id":"x","result":null}');
    assert.equal(encodeResponse(null, 0), '{"id":null,"result":0}');
    assert.equal(encodeError(null, { code: -32700, message: 'parse error' }), '{"id":null,"error":{"code":-32700,"message":"parse error"}}');
    assert.equal(encodeError(2, { code: 1, message: 'm', data: { d: true } }), '{"id":2,"error":{"code":1,"message":"m","data":{"d":true}}}');
  });

  it('process/output notifications base64 a Buffer chunk and pass a string chunk through', () => {
    const params = { processId: 'p"1', seq: 3, stream: 'stdout', chunk: Buffer.from('hi\n') };
    const text = encodeNotification('process/output', params);
    assert.deepEqual(JSON.parse(text), { method: 'process/output', params: { processId: 'p"1', seq: 3, stream: 'stdout', chunk: Buffer.from('hi\n').toString('base64') } });
    assert.deepEqual(JSON.parse(encodeNotification('process/output', { ...params, chunk: 'aGk=' })).params.chunk, 'aGk=');
    assert.equal(encodeNotification('process/exited', { processId: 'p', exitCode: 0 }), '{"method":"process/exited","params":{"processId":"p","exitCode":0}}');
  });

  it('encodeOutputFrame writes the same frame as encodeNotification, for every chunk length mod 3', () => {
    for (const len of [0, 1, 2, 3, 4, 5, 1000]) {
      const data = Buffer.alloc(len, 0xfe);
      const frame = encodeOutputFrame('proc-é"\\', 41, 'pty', data);
      assert.equal(frame.toString('utf8'), encodeNotification('process/output', { processId: 'proc-é"\\', seq: 41, stream: 'pty', chunk: data }), `len ${len}`);
    }
  });

  it('encodeOutputFrame returns only the frame when alloc hands out a larger buffer', () => {
    const big = Buffer.alloc(4096, 0x20);
    const frame = encodeOutputFrame('p', 1, 'stdout', Buffer.from('abc'), () => big);
    assert.equal(frame.buffer, big.buffer, 'written into the buffer it was given');
    assert.deepEqual(JSON.parse(frame.toString()), { method: 'process/output', params: { processId: 'p', seq: 1, stream: 'stdout', chunk: 'YWJj' } });
  });
});
