import { ExecServer } from '../../server/execServer';
import { adminInProcess } from '../../server/admin/adminApi';
import { describeSandboxStatus, sandboxFor } from '../../server/sandbox';
import { ControlError, listenControlSocket, type ControlServer } from '../../transport/controlSocket';
import { listenWebSocket } from '../../transport/websocket';
import type { HostOptions, ServerHost } from './serverHost';

/**
 * The server runs inside the extension host; the admin API is direct. It cannot outlive the
 * extension host, so a reload ends its processes. With `control`, it still answers on its
 * window slot's control socket, always `owned`: that marks the slot as taken by a live window,
 * so a second window on the same folder picks its own port (see serverSlots.ts).
 */
export async function startInProcessHost(o: HostOptions, extras: { control?: { path: string; secret: string } } = {}): Promise<ServerHost> {
  const server = new ExecServer(o.config);
  const listener = await listenWebSocket(server, { host: o.host, port: o.port, token: o.token });
  const admin = adminInProcess(server);
  // The child-mode CLI logs this line itself; here the extension's log gets it.
  void sandboxFor(server.config).check().then((s) => o.log(describeSandboxStatus(s)));
  let control: ControlServer | undefined;
  if (extras.control) {
    try {
      control = await listenControlSocket({
        ...extras.control,
        adopt: () => {
          throw new ControlError('owned', 'an in-process server of a live window');
        },
        onAdopted: (s) => s.destroy(),
      });
    } catch (err) {
      o.log(`control socket not available (${(err as Error).message}): another window on this folder may pick the same slot`);
    }
  }
  return {
    mode: 'inProcess',
    url: listener.url,
    port: listener.port,
    token: o.token,
    admin,
    onDidExit: () => undefined, // it cannot die without the extension host
    stop: async () => {
      control?.close();
      await listener.close();
      await server.shutdown();
    },
  };
}
