/** Small formatting helpers shared by the tree, the status bar and the commands. No vscode import. */

const SHELLS = new Set(['sh', 'bash', 'zsh', 'dash', 'fish', 'ksh']);

/** argv as a shell-like command line (quoted where needed). */
export function commandLine(argv: readonly string[]): string {
  return argv.map(quoteArg).join(' ');
}

function quoteArg(a: string): string {
  if (a === '') return "''";
  if (/^[\w@%+=:,./~-]+$/.test(a)) return a;
  return `'${a.replace(/'/g, `'\\''`)}'`;
}

/**
 * What a person would call the command: agents usually run `bash -lc "<script>"`, so the
 * script is the interesting part; otherwise the quoted argv.
 */
export function commandLabel(argv: readonly string[], max = 120): string {
  let label: string;
  const base = (argv[0] ?? '').split('/').pop() ?? '';
  const flagIdx = argv.findIndex((a, i) => i > 0 && /^-[a-z]*c$/.test(a));
  if (SHELLS.has(base) && flagIdx > 0 && flagIdx === argv.length - 2) label = argv[flagIdx + 1];
  else label = commandLine(argv);
  label = label.replace(/\s+/g, ' ').trim() || '(empty command)';
  return label.length > max ? `${label.slice(0, max - 1)}…` : label;
}

export function formatDuration(ms: number): string {
  if (ms < 0) ms = 0;
  if (ms < 1000) return `${Math.round(ms)}ms`;
  const s = Math.floor(ms / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${String(s % 60).padStart(2, '0')}s`;
  const h = Math.floor(m / 60);
  return `${h}h ${String(m % 60).padStart(2, '0')}m`;
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / (1024 * 1024)).toFixed(1)} MiB`;
}

export function formatClock(ms: number): string {
  const d = new Date(ms);
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}
