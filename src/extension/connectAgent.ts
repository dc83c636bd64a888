import * as os from 'node:os';
import * as vscode from 'vscode';
import { AGENTS, agentSetup, isAgentId, writeAgentSetup, type AgentId, type AgentSetup, type SetupStep } from '../agents';
import type { LauncherInfo } from './launcher';
import type { Notifier } from './notify';

/**
 * "Exec Server: Connect an Agent…": pick an agent, see its exact set-up (the MCP server `exec`
 * = `<launcher> mcp`, plus the setting that takes the agent's own shell tool away), then copy a
 * step or write the set-up into the agent's user-scope config files (merged, keeping what is
 * there). The set-ups are src/agents (shared with `exec-server connect`); they point at the
 * stable launcher in global storage and hold no token.
 *
 * Arguments (for scripts and tests; without them the user is asked):
 *   (agentId?, action?: 'show' | 'copy' | 'write', opts?: { step?: number; home?: string })
 * Returns what was done: the set-up shown, the text copied, or the files written.
 */
export type ConnectAction = 'show' | 'copy' | 'write';
export interface ConnectResult {
  agent: AgentId;
  action: ConnectAction;
  setup: AgentSetup;
  /** show: the document's text. copy: the text put on the clipboard. */
  text?: string;
  /** write: the files whose content changed. */
  written?: string[];
  /** write: steps it cannot do (commands the user runs, e.g. Copilot CLI's alias). */
  manual?: SetupStep[];
  /** write: why nothing was written (e.g. a config file with comments is left alone). */
  error?: string;
}

const LANG: Record<SetupStep['kind'], string> = { command: 'sh', json: 'json', toml: 'toml' };

function setupMarkdown(s: AgentSetup, launcher: string): string {
  const out = [`# Connect ${s.label} to the Exec Server`, ''];
  out.push(`Its commands then run in the exec server of the VS Code window whose folder holds its working directory, and show in the Exec Server sidebar under "${s.label}". The MCP server runs \`${launcher} mcp\` (a launcher this extension keeps up to date; it holds no token).`, '');
  s.steps.forEach((step, i) => {
    out.push(`## ${i + 1}. ${step.title}`, '');
    if (step.file) out.push(`Merge into \`${step.file}\`:`, '');
    out.push('```' + LANG[step.kind], step.text.replace(/\n$/, ''), '```', '');
  });
  if (s.notes.length) out.push('## Notes', '', ...s.notes.map((n) => `- ${n}`), '');
  out.push('Run **Exec Server: Connect an Agent…** again to copy a step or to write the set-up to the files above.', '');
  return out.join('\n');
}

/** Command steps `writeAgentSetup` does not do itself: every `… mcp add …` is done as a file edit. */
function manualSteps(s: AgentSetup): SetupStep[] {
  return s.steps.filter((st) => st.kind === 'command' && !/\bmcp add\b/.test(st.text));
}

/** Read-only documents for the set-ups (an untitled one would ask to be saved when closed). */
const SCHEME = 'exec-server-setup';

export function registerConnectAgent(deps: { notify: Notifier; log: vscode.LogOutputChannel; launcher: Promise<LauncherInfo | undefined> }): vscode.Disposable {
  const { notify, log } = deps;
  const docs = new Map<string, string>();
  const provider = vscode.workspace.registerTextDocumentContentProvider(SCHEME, { provideTextDocumentContent: (uri) => docs.get(uri.path) ?? '' });
  const command = vscode.commands.registerCommand('execServer.connectAgent', async (agentArg?: string, actionArg?: ConnectAction, opts: { step?: number; home?: string } = {}): Promise<ConnectResult | undefined> => {
    const launcher = await deps.launcher;
    if (!launcher) {
      void notify.error('Exec Server could not write its launcher (see the log), so it cannot set up an agent.', 'Show Log').then((p) => p && log.show());
      return undefined;
    }
    let agent: AgentId | undefined;
    if (agentArg !== undefined) {
      if (!isAgentId(agentArg)) throw new Error(`unknown agent ${agentArg}; one of ${AGENTS.map((a) => a.id).join(', ')}`);
      agent = agentArg;
    } else {
      const pick = await vscode.window.showQuickPick(
        AGENTS.map((a) => ({ label: a.label, description: a.id, detail: agentSetup(a.id, launcher.argv).steps.map((s) => s.title).join(' · '), id: a.id })),
        { placeHolder: 'Connect which agent to the Exec Server? (VS Code\'s own agent needs no set-up)', matchOnDescription: true, matchOnDetail: true },
      );
      agent = pick?.id;
    }
    if (!agent) return undefined;
    const setup = agentSetup(agent, launcher.argv);

    let action = actionArg;
    let shownText: string | undefined;
    if (!action || action === 'show') {
      shownText = setupMarkdown(setup, launcher.path);
      const uri = vscode.Uri.from({ scheme: SCHEME, path: `/Connect ${setup.label.replace(/[\\/]/g, '-')}.md` });
      docs.set(uri.path, shownText);
      const doc = await vscode.workspace.openTextDocument(uri);
      if (doc.languageId !== 'markdown') await vscode.languages.setTextDocumentLanguage(doc, 'markdown');
      await vscode.window.showTextDocument(doc, { preview: true, viewColumn: vscode.ViewColumn.Beside });
      if (action === 'show') return { agent, action, setup, text: shownText };
      const files = [...new Set(setup.steps.map((s) => s.file).filter((f): f is string => !!f))];
      const write = files.length ? 'Write to Config' : undefined;
      const pick = await notify.info(
        `${setup.label}: ${setup.steps.length} step${setup.steps.length === 1 ? '' : 's'} shown beside.${files.length ? ` Write them to ${files.join(', ')}?` : ''}`,
        'Copy',
        ...(write ? [write] : []),
      );
      action = pick === 'Copy' ? 'copy' : pick === write && write ? 'write' : undefined;
      if (!action) return { agent, action: 'show', setup, text: shownText };
    }

    if (action === 'copy') {
      let step: SetupStep | undefined = opts.step !== undefined ? setup.steps[opts.step] : setup.steps.length === 1 ? setup.steps[0] : undefined;
      if (!step && opts.step === undefined) {
        const pick = await vscode.window.showQuickPick(
          setup.steps.map((s, i) => ({ label: `${i + 1}. ${s.title}`, description: s.file ?? s.kind, s })),
          { placeHolder: 'Copy which step?' },
        );
        step = pick?.s;
      }
      if (!step) return undefined;
      await vscode.env.clipboard.writeText(step.text);
      void notify.info(`Copied: ${step.title}${step.file ? ` (merge it into ${step.file})` : ''}.`);
      return { agent, action, setup, text: step.text };
    }

    // write
    try {
      const written = await writeAgentSetup(agent, launcher.argv, opts.home ?? os.homedir());
      const manual = manualSteps(setup);
      log.info(`connect ${agent}: wrote ${written.length ? written.join(', ') : 'nothing (already set up)'}`);
      const what = written.length ? `updated ${written.join(', ')}` : 'already set up (nothing to change)';
      const rest = manual.length ? ` Still to do yourself: ${manual.map((m) => m.title).join('; ')}.` : '';
      void notify.info(`${setup.label}: ${what}. Restart ${setup.label} to use it.${rest}`, ...(manual.length ? ['Copy'] : [])).then(async (p) => {
        if (p === 'Copy') await vscode.env.clipboard.writeText(manual.map((m) => m.text).join('\n'));
      });
      return { agent, action, setup, written, manual };
    } catch (err) {
      const error = (err as Error).message;
      void notify.error(`Could not write the ${setup.label} set-up (nothing was changed): ${error}`);
      return { agent, action, setup, error };
    }
  });
  return vscode.Disposable.from(provider, command);
}
