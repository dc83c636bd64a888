import {
  AdminResize, AdminRetainedOutput, AdminShutdown, AdminSignal, AdminSnapshot, AdminTerminate, AdminTerminateAll, AdminWrite,
  MAX_TERMINAL_SIZE, toWireChunk, type AdminApi,
} from '../../protocol/admin';
import { SIGNAL_NAMES } from '../../protocol/types';
import { Params } from '../../protocol/validate';
import { handle, methodTable, type MethodTable } from '../connection/methodTable';

/**
 * The admin/* requests (src/protocol/admin.ts) served by any AdminApi: each validates its
 * params (a -32602 naming the field) and turns wire data (base64) into the API's.
 */
export function adminMethods(api: AdminApi, opts: { onShutdown?(): void } = {}): MethodTable {
  const key = (params: unknown, what: string) => Params.of(params, what).string('key');
  return methodTable(
    handle(AdminSnapshot, () => api.snapshot()),
    handle(AdminRetainedOutput, async (params) => {
      const r = await api.retainedOutput(key(params, 'KeyParams'));
      return { chunks: r.chunks.map(toWireChunk), truncated: r.truncated };
    }),
    handle(AdminSignal, (params) => {
      const p = Params.of(params, 'AdminSignalParams');
      return api.signal(p.string('key'), p.oneOf('signal', SIGNAL_NAMES));
    }),
    handle(AdminTerminate, (params) => api.terminate(key(params, 'KeyParams'))),
    handle(AdminTerminateAll, () => api.terminateAll()),
    handle(AdminWrite, (params) => {
      const p = Params.of(params, 'AdminWriteParams');
      return api.write(p.string('key'), p.base64('data'));
    }),
    handle(AdminResize, async (params) => {
      const p = Params.of(params, 'AdminResizeParams');
      await api.resize(p.string('key'), p.uint('cols', MAX_TERMINAL_SIZE), p.uint('rows', MAX_TERMINAL_SIZE));
      return null;
    }),
    handle(AdminShutdown, () => {
      // Answered first: the shutdown may end this process.
      setImmediate(() => opts.onShutdown?.());
      return null;
    }),
  );
}
