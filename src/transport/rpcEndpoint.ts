import {
  AbstractMessageReader,
  AbstractMessageWriter,
  createMessageConnection,
  Disposable,
  ResponseError,
  type DataCallback,
  type Message,
  type MessageReader,
  type MessageWriter,
} from 'vscode-jsonrpc/node';
import { toWireError } from '../protocol/errors';
import { decodeMessage, encodeError, encodeNotification } from '../protocol/jsonrpc';
import { Method } from '../protocol/methods';
import type { ClientChannel } from '../server/clientChannel';
import { ProtocolViolation } from '../server/connectionHandler';
import type { ExecServer } from '../server/execServer';

/** A message-framed byte pipe to one peer (a WebSocket, a line-delimited stream). */
export interface FramedPeer {
  send(text: string): void;
  /** Optional: encode and send a process/output notification itself (e.g. into pooled frame buffers). */
  sendOutput?(processId: string, seq: number, stream: string, data: Buffer): void;
  close(code: number, reason: string): void;
  readonly congested: boolean;
  onceDrained(cb: () => void): void;
}

/** Close codes (WebSocket numbering; stdio transports just end the stream). */
export const CloseCode = { ProtocolError: 1002, MessageTooBig: 1009, GoingAway: 1001 } as const;

/** Feeds already-decoded messages to vscode-jsonrpc: framing and validation happen before. */
export class PushMessageReader extends AbstractMessageReader implements MessageReader {
  private callback: DataCallback | undefined;
  listen(callback: DataCallback): Disposable {
    this.callback = callback;
    return Disposable.create(() => (this.callback = undefined));
  }
  push(message: Message): void {
    this.callback?.(message);
  }
}

/** Writes vscode-jsonrpc's messages as frames, without `"jsonrpc"` (the seed's wire form). */
export class FrameMessageWriter extends AbstractMessageWriter implements MessageWriter {
  constructor(private readonly send: (text: string) => void) {
    super();
  }
  async write(message: Message): Promise<void> {
    const { jsonrpc: _omit, ...rest } = message as Message & Record<string, unknown>;
    this.send(JSON.stringify(rest));
  }
  end(): void {}
}

/**
 * Serve one connection over a framed peer: our decoder rejects what is not JSON-RPC with a
 * precise error (and keeps serving), vscode-jsonrpc dispatches requests concurrently (a
 * long-polling read never blocks other requests), output notifications bypass it.
 */
export function serveConnection(server: ExecServer, peer: FramedPeer): { receive(text: string): void; closed(): void } {
  const channel: ClientChannel = {
    notify: (method, params) => {
      const p = params as { processId: string; seq: number; stream: string; chunk: unknown };
      if (method === Method.processOutput && peer.sendOutput && Buffer.isBuffer(p.chunk)) {
        peer.sendOutput(p.processId, p.seq, p.stream, p.chunk);
      } else {
        peer.send(encodeNotification(method, params));
      }
    },
    get congested() {
      return peer.congested;
    },
    onceDrained: (cb) => peer.onceDrained(cb),
    close: (code, reason) => peer.close(code, reason),
  };
  const handler = server.connect(channel);
  const reader = new PushMessageReader();
  const connection = createMessageConnection(reader, new FrameMessageWriter((t) => peer.send(t)));
  connection.onRequest(async (method, params) => {
    try {
      return await handler.handleRequest(method, params);
    } catch (err) {
      const w = toWireError(err);
      throw new ResponseError(w.code, w.message, w.data);
    }
  });
  connection.onNotification((method) => {
    try {
      handler.handleNotification(method);
    } catch (err) {
      const reason = err instanceof ProtocolViolation ? err.message : String(err);
      peer.close(CloseCode.ProtocolError, reason);
    }
  });
  connection.listen();
  let open = true;
  return {
    receive(text: string) {
      if (!open) return;
      const d = decodeMessage(text);
      switch (d.kind) {
        case 'request':
          reader.push({ jsonrpc: '2.0', id: d.id, method: d.method, params: d.params } as Message);
          break;
        case 'notification':
          // vscode-jsonrpc consumes `$/…` notifications itself ($/cancelRequest, $/progress,
          // $/logTrace) without calling onNotification: close here, as for any other
          // notification but `initialized`.
          if (d.method.startsWith('$/')) {
            peer.close(CloseCode.ProtocolError, `unexpected notification \`${d.method}\``);
            break;
          }
          reader.push({ jsonrpc: '2.0', method: d.method, params: d.params } as Message);
          break;
        case 'invalid':
          peer.send(encodeError(d.id, { code: d.code, message: d.message }));
          break;
        case 'violation':
          peer.close(CloseCode.ProtocolError, d.reason);
          break;
      }
    },
    closed() {
      if (!open) return;
      open = false;
      handler.dispose();
      connection.dispose();
    },
  };
}
