import { StringDecoder } from 'node:string_decoder';
import * as vscode from 'vscode';
import { displayCommand } from './processLabels';
import type { ProcessModel } from './processModel';

/**
 * "Open in terminal": a Pseudoterminal attached to a running process. Replays the retained
 * output, then streams live output with its colours; keystrokes go to process/write and the
 * terminal's size to process/resize (PTY processes). Closing the terminal detaches only.
 */
export function openProcessTerminal(model: ProcessModel, key: string, log: vscode.LogOutputChannel): vscode.Terminal {
  const p = model.getProcess(key);
  if (!p) throw new Error(`no such process ${key}`);
  const admin = model.admin;
  if (!admin || !model.isLive(p)) throw new Error('the server that ran this process has stopped');
  const tty = p.snap.tty;
  const writeEmitter = new vscode.EventEmitter<string>();
  const decoder = new StringDecoder('utf8');
  // Pipes have bare \n line ends; a terminal needs \r\n.
  const render = (data: Buffer) => {
    const s = decoder.write(data);
    return tty ? s : s.replace(/\r?\n/g, '\r\n');
  };
  let sub: { dispose(): void } | undefined;
  let ended = false;
  const closeEmitter = new vscode.EventEmitter<void>();

  const pty: vscode.Pseudoterminal = {
    onDidWrite: writeEmitter.event,
    onDidClose: closeEmitter.event,
    open: (dims) => {
      sub = model.followOutput(key, {
        truncated: () => writeEmitter.fire('\x1b[2m[… earlier output discarded …]\x1b[0m\r\n'),
        unavailable: (err) => writeEmitter.fire(`\x1b[31m[retained output unavailable: ${err.message}]\x1b[0m\r\n`),
        chunk: (c) => writeEmitter.fire(render(c.data)),
        ended: (cur) => {
          ended = true;
          const how = !cur || cur.lost ? 'the server stopped' : cur.snap.signal ? `killed by ${cur.snap.signal}` : `exit code ${cur.snap.exitCode}`;
          writeEmitter.fire(`\r\n\x1b[2m[process ended: ${how}; press any key to close]\x1b[0m\r\n`);
        },
      });
      if (dims && tty) void admin.resize(key, dims.columns, dims.rows).catch(() => undefined);
    },
    close: () => {
      sub?.dispose();
    },
    handleInput: (data) => {
      if (ended) {
        closeEmitter.fire();
        return;
      }
      void admin.write(key, Buffer.from(data, 'utf8')).then(
        (status) => {
          if (status !== 'accepted') log.debug(`terminal input to ${key}: ${status}`);
        },
        (err: Error) => log.warn(`terminal input to ${key} failed: ${err.message}`),
      );
    },
    setDimensions: (dims) => {
      if (tty && !ended) void admin.resize(key, dims.columns, dims.rows).catch(() => undefined);
    },
  };
  const terminal = vscode.window.createTerminal({
    name: `Exec: ${displayCommand(p.snap, 30)} (${p.snap.pid})`,
    pty,
    iconPath: new vscode.ThemeIcon('server-process'),
  });
  terminal.show();
  return terminal;
}
