import { readFileSync } from 'node:fs';
import { adminOverStreams } from '../../client/adminClient';
import { pidAlive } from '../../platform/pidAlive';
import { AdminAdvertise } from '../../protocol/admin';
import { adoptOverControlSocket } from '../../transport/controlSocket';
import type { ChildServerHost } from './childHost';

/**
 * Adopt the child-mode server a window left running across a reload (issue 14): connect to its
 * private control socket, authenticate with the window slot's secret, and from then on talk the
 * admin protocol over that socket, as the first extension host did over the child's stdio.
 * Rejects with a ControlError ('absent': no server there; 'owned': another live window owns it;
 * 'auth': wrong secret). The server is not our child: its end shows as the socket closing, and
 * stop() waits for its pid to go.
 */
export async function adoptChildHost(o: {
  socketPath: string;
  secret: string;
  token: string;
  log(message: string): void;
  /** How long stop() waits for the server's exit after admin/shutdown (default 10 s). */
  stopTimeoutMs?: number;
}): Promise<ChildServerHost> {
  const { result, socket } = await adoptOverControlSocket(o.socketPath, o.secret);
  const admin = adminOverStreams(socket, socket);
  // The socket was paused with the server's first admin lines pushed back: read them now.
  socket.resume();
  await admin.ready;
  let stopping = false;
  let detached = false;
  const exitListeners: ((reason: string) => void)[] = [];
  void admin.closed.then(() => {
    if (stopping || detached) return;
    const reason = `the adopted exec server (pid ${result.pid}) closed its control channel`;
    o.log(reason);
    for (const l of exitListeners.splice(0)) l(reason);
  });
  return {
    mode: 'child',
    pid: result.pid,
    url: result.url,
    port: result.port,
    token: o.token,
    admin,
    adopted: result,
    onDidExit: (l) => void exitListeners.push(l),
    detach: () => {
      if (stopping || detached) return;
      detached = true;
      admin.dispose();
      socket.end();
    },
    advertise: async (p) => (await admin.request(AdminAdvertise, p)).file,
    stop: async () => {
      if (stopping) return;
      stopping = true;
      await admin.shutdown().catch(() => undefined);
      socket.end();
      // Not our child: wait (bounded) for its pid to go; its watchdog covers a hang.
      const end = Date.now() + (o.stopTimeoutMs ?? 10_000);
      while (running(result.pid) && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
      if (running(result.pid)) {
        o.log(`the adopted exec server (pid ${result.pid}) did not exit in time: killing it`);
        try {
          process.kill(result.pid, 'SIGKILL');
        } catch {
          // gone
        }
      }
    },
  };
}

/** Alive and not a zombie (a zombie has exited; whoever it was re-parented to reaps it). */
function running(pid: number): boolean {
  if (!pidAlive(pid)) return false;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return true; // no /proc (macOS): kill(pid, 0) is all we have
  }
}
