import { z } from 'zod';

/**
 * The five tools' names, descriptions and schemas. The descriptions are what an agent's model
 * reads to decide when and how to call a tool: they say what it does, what it never does
 * (yielding never kills), and the one or two facts that prevent the usual mistakes.
 */

export const LIMITS = {
  yieldMs: { default: 10_000, max: 30_000 },
  waitMs: { default: 2_000, max: 30_000 },
  sendWaitMs: { default: 500, max: 30_000 },
  maxOutputChars: { default: 20_000, min: 1_000, max: 100_000 },
  /** Output shown by stop_process (the end of it). */
  stopTailChars: 4_000,
} as const;

const STATUS = z
  .enum(['running', 'exited', 'killed', 'failed_to_start'])
  .describe('running: still going (continue with get_output); exited: ended by itself; killed: ended by a signal or by a stop; failed_to_start: never ran');

/** What run_command, get_output, send_input and stop_process return. */
export const processResultShape = {
  process_id: z.string().describe('Handle for get_output, send_input and stop_process'),
  pid: z.number().int().describe('Operating-system process id (0 when it never started)'),
  status: STATUS,
  exit_code: z.number().int().nullable().describe('Exit code once ended (128+N when ended by signal N); null while running'),
  signal: z.string().nullable().describe('Signal that ended it (e.g. SIGTERM), or null'),
  output: z.string().describe('stdout and stderr interleaved as a terminal shows them (ANSI sequences removed for tty); a "[… left out …]" marker says how to read what was cut'),
  truncated: z.boolean().describe('true when output was cut (see the marker in output)'),
  next_cursor: z.number().int().describe('Byte offset where this output ends: get_output {cursor: next_cursor} continues from here'),
  elapsed_ms: z.number().int().describe('How long the process has run (until its exit when it ended)'),
  evicted_bytes: z.number().int().describe('Output dropped before it was read (about 1 MB is kept per process); 0 normally'),
  note: z.string().optional().describe('Anything else worth knowing (a timeout, a lost connection)'),
};

const maxOutputChars = z
  .number()
  .optional()
  .describe(`Most characters of output to return (default ${LIMITS.maxOutputChars.default}, ${LIMITS.maxOutputChars.min}–${LIMITS.maxOutputChars.max})`);

export const runCommandInput = {
  command: z.string().min(1, 'command must not be empty').describe('The shell command line, e.g. "npm test" or "cd web && npm run build 2>&1 | tail -40"'),
  cwd: z.string().optional().describe('Working directory; relative paths start from the default (the workspace folder you work in)'),
  yield_ms: z.number().optional().describe(`Return after this long even if still running (default ${LIMITS.yieldMs.default}, 0–${LIMITS.yieldMs.max}); the process keeps running`),
  timeout_ms: z.number().positive('timeout_ms must be positive').optional().describe('Hard limit: after this long the process and its children are stopped. No limit by default'),
  tty: z.boolean().optional().describe('Run in a pseudo-terminal (for programs that need one, or interactive use with send_input)'),
  stdin: z.string().optional().describe('Text written to stdin, then EOF'),
  keep_stdin_open: z.boolean().optional().describe('Keep stdin open for send_input (otherwise it is at EOF from the start)'),
  env: z.record(z.string(), z.string()).optional().describe('Extra environment variables'),
  max_output_chars: maxOutputChars,
  description: z.string().max(500).optional().describe('A few words on what this command is for; shown to the user beside it'),
};

export const RUN_COMMAND_DESCRIPTION = [
  "Run a shell command line on the user's machine through the Exec Server: the user sees it live in VS Code's Exec Server sidebar and can stop it there. Use it for every shell command (builds, tests, git, package managers, dev servers).",
  "It runs in the user's login shell (bash -lc; sh -c without bash; cmd on Windows) in `cwd` (default: the workspace folder you work in).",
  `It returns when the command ends or after yield_ms (default ${LIMITS.yieldMs.default}, at most ${LIMITS.yieldMs.max}), whichever is first. Yielding never stops the command: with status "running" it keeps going, and you continue with get_output (more output, the exit code), send_input or stop_process. So dev servers, watchers and long builds are fine: start them with a small yield_ms and check on them later; do not append "&".`,
  'timeout_ms is a hard limit after which the whole process group is stopped.',
  'stdin is at EOF unless you pass `stdin` text or keep_stdin_open/tty, and GIT_TERMINAL_PROMPT=0, GIT_PAGER=cat and PAGER=cat are set, so nothing hangs on a prompt or a pager.',
  `output is stdout and stderr interleaved as a terminal would show them; beyond max_output_chars (default ${LIMITS.maxOutputChars.default}) you get its head and its tail with a marker saying how much was left out and the cursor to read it with get_output.`,
].join(' ');

export const getOutputInput = {
  process_id: z.string().min(1).describe('From run_command'),
  cursor: z.number().int('cursor must be an integer').min(0, 'cursor must be ≥ 0').optional().describe('Read from this byte offset instead of where you stopped (0 = oldest output still kept; a marker or next_cursor gives others)'),
  wait_ms: z.number().optional().describe(`Wait up to this long for new output or the end (default ${LIMITS.waitMs.default}, 0–${LIMITS.waitMs.max})`),
  max_output_chars: maxOutputChars,
};

export const GET_OUTPUT_DESCRIPTION = [
  'Read the output of a process started with run_command that you have not seen yet, with its status and exit code.',
  `If there is none yet, waits up to wait_ms (default ${LIMITS.waitMs.default}, at most ${LIMITS.waitMs.max}) for new output or for the process to end, and returns as soon as either happens: call it again to keep following a command, or with a larger wait_ms to wait for a long one.`,
  'With `cursor` it returns a page from that byte offset instead (0 = the oldest output still kept; the markers in output and next_cursor give the offsets to continue from).',
  'evicted_bytes > 0 means output was dropped before you read it (about 1 MB is kept per process).',
  'It never affects the process.',
].join(' ');

export const sendInputInput = {
  process_id: z.string().min(1).describe('From run_command (started with tty or keep_stdin_open)'),
  text: z.string().describe('What to type; include "\\n" to submit a line. With tty, "\\u0003" is Ctrl-C and "\\u0004" Ctrl-D'),
  wait_ms: z.number().optional().describe(`How long to collect the output that follows (default ${LIMITS.sendWaitMs.default}, 0–${LIMITS.sendWaitMs.max}); returns early if the process ends`),
};

export const SEND_INPUT_DESCRIPTION = [
  'Write text to the input of a running process started with run_command with tty: true or keep_stdin_open: true (a REPL, a prompt, a program reading stdin),',
  `then return the output that followed within wait_ms (default ${LIMITS.sendWaitMs.default}), with the process's status.`,
  'Include "\\n" to submit a line. In a tty, "\\u0003" is Ctrl-C and "\\u0004" Ctrl-D (end of input).',
].join(' ');

export const listProcessesInput = {
  include_finished: z.boolean().optional().describe('Also list processes that have ended (default false: running ones only)'),
};

const processInfoShape = {
  process_id: z.string(),
  pid: z.number().int(),
  command: z.string(),
  cwd: z.string(),
  status: STATUS,
  exit_code: z.number().int().nullable(),
  started_at: z.string().describe('ISO 8601'),
  runtime_ms: z.number().int(),
  tty: z.boolean(),
  description: z.string().optional(),
};

export const listProcessesOutput = {
  processes: z.array(z.object(processInfoShape)),
};

export const LIST_PROCESSES_DESCRIPTION =
  'List the processes you started with run_command in this session (running ones; include_finished: true adds those that ended): process_id, pid, command, cwd, status, exit_code, started_at, runtime_ms, tty. Use it to find a dev server or a long build you started earlier.';

export const stopProcessInput = {
  process_id: z.string().min(1).describe('From run_command or list_processes'),
  signal: z.enum(['SIGTERM', 'SIGINT', 'SIGKILL']).optional().describe('SIGTERM (default): stop, then force after a short grace; SIGINT: like Ctrl-C; SIGKILL: force at once'),
};

export const STOP_PROCESS_DESCRIPTION = [
  'Stop a process you started with run_command, together with everything it started (its whole process group).',
  'SIGTERM (default) asks it to stop and forces it (SIGKILL) after a short grace; SIGINT is Ctrl-C (the program may keep running); SIGKILL forces it at once.',
  `Waits for it to end (about 10 s at most) and returns its final status with the last ${LIMITS.stopTailChars} characters of its output.`,
  'Use this rather than kill or pkill for what you started here (for example to free a port); only processes started through this server can be stopped.',
].join(' ');
