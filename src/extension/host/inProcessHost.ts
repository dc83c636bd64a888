import { ExecServer } from '../../server/execServer';
import { observeInProcess } from '../../server/observer';
import { listenWebSocket } from '../../transport/websocket';
import type { HostOptions, ServerHost } from './serverHost';

/** The default: the server runs inside the extension host; the observer is direct. */
export async function startInProcessHost(o: HostOptions): Promise<ServerHost> {
  const server = new ExecServer(o.config);
  const listener = await listenWebSocket(server, { host: o.host, port: o.port, token: o.token });
  const observer = observeInProcess(server);
  return {
    mode: 'inProcess',
    url: listener.url,
    port: listener.port,
    token: o.token,
    observer,
    onDidExit: () => undefined, // it cannot die without the extension host
    stop: async () => {
      await listener.close();
      await server.shutdown();
    },
  };
}
