/**
 * How fs/* failures reach the client, as upstream maps them: ENOENT → -32004, every other
 * OS error → -32603 with Rust's io::Error text (`Not a directory (os error 20)`, osError.ts),
 * protocol misuse (a path that is not a file, …) → -32600.
 */
import { ErrorCode, invalidRequest, RpcError } from '../../protocol/errors';
import { osErrorMessage } from '../process/osError';

/** The one errno → RpcError mapping: ENOENT is -32004, any other OS error -32603. */
export function fsErrorToRpc(err: unknown): RpcError {
  if (err instanceof RpcError) return err;
  const message = osErrorMessage(err);
  if (message === undefined) {
    return new RpcError(ErrorCode.InternalError, err instanceof Error ? err.message : String(err));
  }
  const code = (err as NodeJS.ErrnoException).code === 'ENOENT' ? ErrorCode.NotFound : ErrorCode.InternalError;
  return new RpcError(code, message);
}

/** Runs an fs operation, turning OS errors into wire errors. */
export async function os<T>(op: () => Promise<T>): Promise<T> {
  try {
    return await op();
  } catch (err) {
    throw fsErrorToRpc(err);
  }
}

export function notAFile(p: string): RpcError {
  return invalidRequest(`path \`${p}\` is not a file`);
}
