import type { ClientChannel } from '../server/connection/clientChannel';
import type { ConnectionHandler } from '../server/connection/connectionHandler';
import type { ExecServer } from '../server/execServer';

/**
 * The in-process transport (the seed's connect_in_process): no serialisation at all.
 * Requests call the handler directly; notifications reach the listener as objects, with
 * output chunks as Buffers. There is no socket to fill, so it is never congested.
 */
export interface InProcessConnection {
  request(method: string, params: unknown): Promise<unknown>;
  notify(method: string): void;
  close(): void;
}

export function connectInProcess(
  server: ExecServer,
  onNotification: (method: string, params: object) => void,
  onClose: (reason: string) => void,
): InProcessConnection {
  let open = true;
  // eslint-disable-next-line prefer-const -- assigned below, after the channel whose close() uses it.
  let handler: ConnectionHandler;
  const close = (reason: string) => {
    if (!open) return;
    open = false;
    handler.dispose();
    onClose(reason);
  };
  const channel: ClientChannel = {
    notify: (method, params) => {
      if (open) onNotification(method, params);
    },
    congested: false,
    onceDrained: (cb) => cb(),
    close: (_code, reason) => close(reason),
  };
  handler = server.connect(channel);
  return {
    request: async (method, params) => {
      if (!open) throw new Error('connection closed');
      return handler.handleRequest(method, params);
    },
    notify: (method) => {
      try {
        handler.handleNotification(method);
      } catch (err) {
        close((err as Error).message);
      }
    },
    close: () => close('closed by client'),
  };
}
