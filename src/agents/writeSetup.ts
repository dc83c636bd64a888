import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { agentPlan, type AgentId, type FileEdit } from './agents';
import { mergeJson, parseConfigJson } from './jsonMerge';
import { configFile } from './paths';
import { upsertTomlTable } from './tomlTable';

/**
 * Merges an agent's set-up into its user-scope config files under `home` (the agents'
 * own variables in `env`, e.g. CODEX_HOME, are honoured). Everything already there is kept
 * (see jsonMerge.ts / tomlTable.ts); a file that cannot be merged safely (JSON with comments)
 * is left alone with an error saying so. Returns the files whose content changed.
 * Command steps (e.g. Copilot CLI's alias) cannot be written: the caller shows them.
 */
export async function writeAgentSetup(agent: AgentId, launcher: string[], home: string, env: NodeJS.ProcessEnv = process.env): Promise<string[]> {
  const { edits } = agentPlan(agent, launcher);
  // Compute every new content first, so a file that cannot be merged changes nothing.
  const planned: Array<{ file: string; text: string; mode: number }> = [];
  for (const e of edits) {
    const file = configFile(e.target, home, env);
    const before = await readIfExists(file);
    const prior = planned.find((p) => p.file === file);
    const text = applyEdit(prior ? prior.text : before?.text ?? '', e, file);
    if (prior) prior.text = text;
    else if (text !== (before?.text ?? null)) planned.push({ file, text, mode: before?.mode ?? 0o600 });
  }
  const written: string[] = [];
  for (const p of planned) {
    await writeAtomically(p.file, p.text, p.mode);
    written.push(p.file);
  }
  return written;
}

function applyEdit(text: string, e: FileEdit, file: string): string {
  if (e.kind === 'toml') return upsertTomlTable(text, e.tomlTable!, e.toml!);
  const base = parseConfigJson(text, file);
  // opencode accepts `"permission": "ask"` as shorthand for {"*": "ask"}: keep its meaning.
  if (typeof base.permission === 'string' && e.json && typeof e.json === 'object' && !Array.isArray(e.json) && 'permission' in e.json) {
    base.permission = { '*': base.permission };
  }
  const indent = /\n(\s+)"/.exec(text)?.[1] ?? '  ';
  return `${JSON.stringify(mergeJson(base, e.json!, e.appendAt), null, indent.includes('\t') ? '\t' : indent.length)}\n`;
}

async function readIfExists(file: string): Promise<{ text: string; mode: number } | undefined> {
  try {
    const [text, st] = await Promise.all([fs.promises.readFile(file, 'utf8'), fs.promises.stat(file)]);
    return { text, mode: st.mode & 0o777 };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

/**
 * Temp file in the same folder, then rename: an agent reading its config meanwhile sees the old
 * or the new file, never half of one. A symlinked config (dotfiles repos) is written through.
 */
async function writeAtomically(file: string, text: string, mode: number): Promise<void> {
  let target = file;
  try {
    target = await fs.promises.realpath(file);
  } catch {
    // new file
  }
  await fs.promises.mkdir(path.dirname(target), { recursive: true, mode: 0o700 });
  const tmp = path.join(path.dirname(target), `.${path.basename(target)}.exec-server-${randomBytes(4).toString('hex')}`);
  await fs.promises.writeFile(tmp, text, { mode, flag: 'wx' });
  try {
    await fs.promises.rename(tmp, target);
  } catch (err) {
    await fs.promises.rm(tmp, { force: true });
    throw err;
  }
}
