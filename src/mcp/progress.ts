import { stripAnsi } from '../text/ansi';
import type { TrackedProcess } from './trackedProcess';

/**
 * MCP progress (`notifications/progress`) for tool calls that wait on a process: run_command up
 * to its yield_ms, get_output and send_input up to their wait_ms, stop_process while the group
 * winds down. Sent only when the caller asked for it (a `progressToken` in the request's
 * `_meta`). Clients that reset their request timeout on progress (the SDK's
 * `resetTimeoutOnProgress`) keep waiting, and the user sees the command's latest line while the
 * agent waits. `progress` is the call's elapsed milliseconds: it increases with every
 * notification, as the spec asks, and there is no `total` to promise.
 */
export const PROGRESS_INTERVAL_MS = 1_000;
/** How much of the output's end is read for the last line, and how long that line may be. */
const TAIL_BYTES = 4_096;
const LINE_CHARS = 120;

export interface ProgressNotification {
  method: 'notifications/progress';
  params: { progressToken: string | number; progress: number; message: string };
}

export interface ToolProgress {
  /** Report on `p` every interval until `wait` settles, and not after. */
  during(p: TrackedProcess, wait: Promise<void>): Promise<void>;
}

/** The progress of one tool call, or undefined when the caller sent no progress token. */
export function toolProgress(
  token: string | number | undefined,
  send: (n: ProgressNotification) => Promise<void>,
  intervalMs = PROGRESS_INTERVAL_MS,
): ToolProgress | undefined {
  if (token === undefined) return undefined;
  const t0 = Date.now();
  let last = 0;
  return {
    async during(p, wait) {
      const timer = setInterval(() => {
        last = Math.max(last + 1, Date.now() - t0);
        send({ method: 'notifications/progress', params: { progressToken: token, progress: last, message: progressMessage(p) } }).catch(() => undefined);
      }, intervalMs);
      try {
        await wait;
      } finally {
        clearInterval(timer);
      }
    },
  };
}

/** `running 3.0 s, 1234 bytes of output: <the last non-blank line, without ANSI>`. */
export function progressMessage(p: TrackedProcess): string {
  const state = p.running ? 'running' : 'ended';
  const line = lastLine(p);
  return `${state} ${(p.elapsedMs / 1000).toFixed(1)} s, ${p.log.end} bytes of output${line ? `: ${line}` : ''}`;
}

function lastLine(p: TrackedProcess): string {
  const { data } = p.log.slice(Math.max(p.log.start, p.log.end - TAIL_BYTES));
  const lines = stripAnsi(data.toString('utf8')).split(/\r\n|\r|\n/);
  for (let i = lines.length - 1; i >= 0; i--) {
    const l = lines[i].trim();
    if (l !== '') return l.length > LINE_CHARS ? `${l.slice(0, LINE_CHARS - 1)}…` : l;
  }
  return '';
}
