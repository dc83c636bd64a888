import type { Readable, Writable } from 'node:stream';
import { ErrorCode } from '../protocol/errors';
import { encodeError } from '../protocol/jsonrpc';
import type { ExecServer } from '../server/execServer';
import { LineSplitter } from './lineFraming';
import { serveConnection } from './rpcEndpoint';
import { DEFAULT_HIGH_WATER_MARK, DEFAULT_MAX_FRAME_BYTES } from './websocket';

/**
 * The stdio transport: one JSON-RPC message per line on `input`/`output`. Resolves when the
 * input ends (the client went away) or the server closes the connection.
 */
export function serveStdio(
  server: ExecServer,
  input: Readable,
  output: Writable,
  opts: { maxLineBytes?: number; highWaterMarkBytes?: number } = {},
): Promise<void> {
  const hwm = opts.highWaterMarkBytes ?? DEFAULT_HIGH_WATER_MARK;
  return new Promise((resolve) => {
    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      input.off('data', onData);
      conn.closed();
      resolve();
    };
    const conn = serveConnection(server, {
      send: (text) => {
        if (!done) output.write(text + '\n');
      },
      close: () => finish(),
      get congested() {
        return output.writableLength > hwm;
      },
      onceDrained: (cb) => {
        if (output.writableLength <= hwm / 2) cb();
        else output.once('drain', cb);
      },
    });
    const splitter = new LineSplitter(
      opts.maxLineBytes ?? DEFAULT_MAX_FRAME_BYTES,
      (line) => conn.receive(line),
      () => output.write(encodeError(null, { code: ErrorCode.InvalidRequest, message: 'message too large: line exceeds the maximum frame size' }) + '\n'),
    );
    const onData = (d: Buffer) => splitter.push(d);
    input.on('data', onData);
    input.once('end', finish);
    input.once('close', finish);
    output.on('error', finish);
  });
}
