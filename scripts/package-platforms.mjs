#!/usr/bin/env node
// @ts-check
// `npm run package`: one .vsix per platform (vsce package --target), each carrying node-pty's
// native binary for that platform only: the one built here for linux-x64, node-pty's prebuilds
// for darwin and win32, none for linux-arm64 (the extension then loads VS Code's own bundled
// node-pty, see src/server/process/nodePtyLoader.ts). Output: packages/exec-server-vscode-<target>.vsix,
// and a copy of this machine's package as exec-server-vscode.vsix (what the README installs).
//
//   node scripts/package-platforms.mjs [--out DIR] [--target T ...]
import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(fileURLToPath(new URL('..', import.meta.url)));
const pty = 'node_modules/node-pty';

/** What each target ships of node-pty's native side (paths relative to node_modules/node-pty). */
export const TARGETS = {
  'linux-x64': { native: ['build/Release/pty.node'], binary: 'elf-x86-64' },
  'linux-arm64': { native: [], binary: null },
  'darwin-x64': { native: ['prebuilds/darwin-x64/pty.node', 'prebuilds/darwin-x64/spawn-helper'], binary: 'macho-x86-64' },
  'darwin-arm64': { native: ['prebuilds/darwin-arm64/pty.node', 'prebuilds/darwin-arm64/spawn-helper'], binary: 'macho-arm64' },
  'win32-x64': { native: winFiles('win32-x64'), binary: 'pe-x64' },
  'win32-arm64': { native: winFiles('win32-arm64'), binary: 'pe-arm64' },
};

function winFiles(dir) {
  // conpty.node is what node-pty 1.1 uses on Windows 10 1809+; pty.node + winpty for older
  // builds; conpty/ holds the bundled ConPTY (useConptyDll). Debug symbols (.pdb) stay out.
  return ['pty.node', 'conpty.node', 'conpty_console_list.node', 'winpty.dll', 'winpty-agent.exe', 'conpty/conpty.dll', 'conpty/OpenConsole.exe']
    .map((f) => `prebuilds/${dir}/${f}`);
}

/** The .vscodeignore allow-list plus this target's node-pty files. */
function ignoreFileFor(target) {
  const base = readFileSync(join(root, '.vscodeignore'), 'utf8');
  const { native } = TARGETS[target];
  if (native.length === 0) return base; // no node-pty at all: VS Code's own is used
  const lines = [
    '',
    `# node-pty for ${target} (added by scripts/package-platforms.mjs)`,
    `!${pty}/package.json`,
    `!${pty}/LICENSE`,
    // vsce lets any `!` pattern win over exclusions: list node-pty's JS one file at a time.
    ...ptyLibFiles().map((f) => `!${pty}/${f}`),
    ...native.map((f) => `!${pty}/${f}`),
  ];
  return `${base}\n${lines.join('\n')}\n`;
}

// node-pty's run-time JS (every .js under lib/), without its tests.
function ptyLibFiles() {
  return readdirSync(join(root, pty, 'lib'), { recursive: true, encoding: 'utf8' })
    .map((f) => f.split(sep).join('/'))
    .filter((f) => f.endsWith('.js') && !f.endsWith('.test.js'))
    .map((f) => `lib/${f}`)
    .sort();
}

function run(cmd, args) {
  const r = spawnSync(cmd, args, { cwd: root, stdio: ['ignore', 'inherit', 'inherit'] });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status ?? r.signal})`);
}

export function packageAll({ out = join(root, 'packages'), targets = Object.keys(TARGETS) } = {}) {
  mkdirSync(out, { recursive: true });
  for (const t of targets) {
    for (const f of TARGETS[t].native) {
      if (!existsSync(join(root, pty, f))) throw new Error(`${pty}/${f} is missing (npm ci builds linux-x64; node-pty ships the prebuilds)`);
    }
  }
  // node-pty 1.1.0's darwin prebuilds ship spawn-helper without its execute bit
  // (microsoft/node-pty#850): every PTY on macOS would fail. vsce keeps file modes, so fix it here.
  for (const t of ['darwin-x64', 'darwin-arm64']) {
    const helper = join(root, pty, `prebuilds/${t}/spawn-helper`);
    if (existsSync(helper) && (statSync(helper).mode & 0o111) !== 0o111) chmodSync(helper, 0o755);
  }
  const scratch = mkdtempSync(join(tmpdir(), 'exec-vsix-'));
  const made = [];
  try {
    for (const t of targets) {
      const ignore = join(scratch, `${t}.vscodeignore`);
      writeFileSync(ignore, ignoreFileFor(t));
      const file = join(out, `exec-server-vscode-${t}.vsix`);
      run(process.execPath, [join(root, 'node_modules/@vscode/vsce/vsce'), 'package', '--target', t, '--ignoreFile', ignore, '--out', file]);
      made.push({ target: t, file, bytes: statSync(file).size });
    }
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
  return made;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const targets = [];
  let out;
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '--out') out = resolve(args[++i]);
    else if (args[i] === '--target') targets.push(args[++i]);
    else throw new Error(`unknown argument ${args[i]}`);
  }
  for (const t of targets) if (!(t in TARGETS)) throw new Error(`unknown target ${t} (one of ${Object.keys(TARGETS).join(', ')})`);
  const made = packageAll({ out, targets: targets.length ? targets : undefined });
  const host = `${process.platform}-${process.arch}`;
  const mine = made.find((m) => m.target === host);
  if (mine) copyFileSync(mine.file, join(root, 'exec-server-vscode.vsix'));
  for (const m of made) console.log(`${m.target.padEnd(13)} ${(m.bytes / 1024).toFixed(0).padStart(6)} KiB  ${m.file}`);
  if (mine) console.log(`exec-server-vscode.vsix = the ${host} package`);
}
