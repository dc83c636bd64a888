import { ExecServer } from '../../server/execServer';
import { observeInProcess } from '../../server/observer';
import { describeSandboxStatus, sandboxFor } from '../../server/sandbox';
import { listenWebSocket } from '../../transport/websocket';
import type { HostOptions, ServerHost } from './serverHost';

/** The default: the server runs inside the extension host; the observer is direct. */
export async function startInProcessHost(o: HostOptions): Promise<ServerHost> {
  const server = new ExecServer(o.config);
  const listener = await listenWebSocket(server, { host: o.host, port: o.port, token: o.token });
  const observer = observeInProcess(server);
  // The child-mode CLI logs this line itself; here the extension's log gets it.
  void sandboxFor(server.config).check().then((s) => o.log(describeSandboxStatus(s)));
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
