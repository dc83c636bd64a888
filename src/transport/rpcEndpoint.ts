import { toWireError } from '../protocol/errors';
import { decodeMessage, encodeError, encodeNotification, encodeResponse, type RequestId } from '../protocol/jsonrpc';
import { Method } from '../protocol/methods';
import type { ClientChannel } from '../server/connection/clientChannel';
import { ProtocolViolation } from '../server/connection/connectionHandler';
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

/**
 * Serve one connection over a framed peer: our decoder rejects what is not JSON-RPC with a
 * precise error (and keeps serving), requests go straight to the connection's handler and
 * output notifications are encoded by the transport itself when it can (pooled frames).
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
  let open = true;
  // Requests go to the handler as they arrive; it runs them in arrival order (an
  // asynchronous one holds those behind it, a long-polling read does not) and runs a
  // synchronous one at once when nothing is ahead, so no scheduler hop (setImmediate, a
  // writer queue) sits between a process/write and the child.
  const dispatch = (id: RequestId, method: string, params: unknown) => {
    handler.handleRequest(method, params).then(
      (result) => open && peer.send(encodeResponse(id, result)),
      (err: unknown) => open && peer.send(encodeError(id, toWireError(err))),
    );
  };
  return {
    receive(text: string) {
      if (!open) return;
      const d = decodeMessage(text);
      switch (d.kind) {
        case 'request':
          dispatch(d.id, d.method, d.params);
          break;
        case 'notification':
          try {
            handler.handleNotification(d.method);
          } catch (err) {
            // Only `initialized` exists (`$/cancelRequest` and the like included): close.
            peer.close(CloseCode.ProtocolError, err instanceof ProtocolViolation ? err.message : String(err));
          }
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
    },
  };
}
