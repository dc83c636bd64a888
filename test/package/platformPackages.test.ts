import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { binaryKind, readZip, type ZipEntry } from '../helpers/zip';

// `npm run package` makes one .vsix per platform; each must carry node-pty's binary for that
// platform only, and node-pty's own loader must find it there on that platform.
const repo = resolve(__dirname, '../../..');
const PTY = 'extension/node_modules/node-pty/';

const EXPECTED: Record<string, { files: string[]; kind: string | null }> = {
  'linux-x64': { files: ['build/Release/pty.node'], kind: 'elf-x86-64' },
  'linux-arm64': { files: [], kind: null },
  'darwin-x64': { files: ['prebuilds/darwin-x64/pty.node', 'prebuilds/darwin-x64/spawn-helper'], kind: 'macho-x86-64' },
  'darwin-arm64': { files: ['prebuilds/darwin-arm64/pty.node', 'prebuilds/darwin-arm64/spawn-helper'], kind: 'macho-arm64' },
  'win32-x64': { files: win('win32-x64'), kind: 'pe-x64' },
  'win32-arm64': { files: win('win32-arm64'), kind: 'pe-arm64' },
};
function win(d: string): string[] {
  return ['conpty.node', 'conpty_console_list.node', 'pty.node', 'winpty-agent.exe', 'winpty.dll', 'conpty/OpenConsole.exe', 'conpty/conpty.dll'].map((f) => `prebuilds/${d}/${f}`);
}
const NATIVE = /\.(node|exe|dll|pdb)$|spawn-helper$/;

/** Where node-pty 1.1's loadNativeModule (lib/utils.js) finds `name`.node for a platform. */
function nativeDirFor(platform: string, arch: string, has: (p: string) => boolean, name: string): string | undefined {
  return ['build/Release', 'build/Debug', `prebuilds/${platform}-${arch}`].find((d) => has(`${d}/${name}.node`));
}

describe('platform packages (npm run package)', { timeout: 300_000 }, () => {
  let out = '';
  const packages = new Map<string, ZipEntry[]>();
  before(() => {
    out = mkdtempSync(join(tmpdir(), 'exec-pkg-'));
    const r = spawnSync(process.execPath, ['scripts/package-platforms.mjs', '--out', out], { cwd: repo, encoding: 'utf8' });
    assert.equal(r.status, 0, `package-platforms failed:\n${r.stderr}\n${r.stdout.slice(-2000)}`);
    for (const t of Object.keys(EXPECTED)) packages.set(t, readZip(join(out, `exec-server-vscode-${t}.vsix`)));
  });
  after(() => rmSync(out, { recursive: true, force: true }));

  for (const [target, want] of Object.entries(EXPECTED)) {
    it(`${target}: exactly its own node-pty binaries, of the right kind, found by node-pty's loader`, () => {
      const entries = packages.get(target)!;
      const byName = new Map(entries.map((e) => [e.name, e]));
      const manifest = byName.get('extension.vsixmanifest')!.read().toString('utf8');
      assert.match(manifest, new RegExp(`TargetPlatform="${target}"`));
      const native = entries.filter((e) => e.name.startsWith(PTY) && NATIVE.test(e.name)).map((e) => e.name.slice(PTY.length)).sort();
      assert.deepEqual(native, [...want.files].sort());
      // Nothing else from node_modules: the rest is bundled into dist/.
      const others = entries.filter((e) => e.name.startsWith('extension/node_modules/') && !e.name.startsWith(PTY));
      assert.deepEqual(others.map((e) => e.name), []);
      assert.equal(entries.filter((e) => /\.test\.js$|\.pdb$|\.map$|\/src\/|\.cc$/.test(e.name)).length, 0, 'no tests, symbols, maps or sources');
      for (const f of ['extension/LICENSE.txt', 'extension/changelog.md', 'extension/media/icon.png', 'extension/dist/extension.js', 'extension/dist/cli.js']) {
        assert.ok(byName.has(f), `${f} missing`);
      }
      if (want.kind === null) {
        // No binary: the extension falls back to VS Code's bundled node-pty (nodePtyLoader).
        assert.equal(entries.some((e) => e.name.startsWith(PTY)), false, 'no node-pty at all');
        return;
      }
      const [platform, arch] = target.split('-');
      const has = (p: string) => byName.has(PTY + p);
      const main = platform === 'win32' ? 'conpty' : 'pty';
      const dir = nativeDirFor(platform, arch, has, main);
      assert.ok(dir, `node-pty's loader finds no ${main}.node for ${target}`);
      assert.equal(binaryKind(byName.get(`${PTY}${dir}/${main}.node`)!.read()), want.kind);
      for (const f of want.files.filter((x) => /\.(node|exe|dll)$|spawn-helper$/.test(x))) {
        assert.equal(binaryKind(byName.get(PTY + f)!.read()), want.kind, f);
      }
      if (platform === 'darwin') {
        // node-pty 1.1.0 ships spawn-helper without its execute bit (microsoft/node-pty#850).
        const helper = byName.get(`${PTY}${dir}/spawn-helper`)!;
        assert.equal(helper.mode & 0o111, 0o111, `spawn-helper mode ${helper.mode.toString(8)}`);
      }
    });
  }

  it(`this machine's package (${process.platform}-${process.arch}) starts a PTY with the node-pty it carries`, (t) => {
    const entries = packages.get(`${process.platform}-${process.arch}`);
    if (!entries) return t.skip(`no package for ${process.platform}-${process.arch}`);
    const dir = mkdtempSync(join(tmpdir(), 'exec-pkg-x-'));
    try {
      for (const e of entries) {
        if (!e.name.startsWith('extension/')) continue;
        const file = join(dir, e.name);
        mkdirSync(dirname(file), { recursive: true });
        writeFileSync(file, e.read());
        if (e.mode) chmodSync(file, e.mode & 0o777);
      }
      const pty = join(dir, 'extension/node_modules/node-pty');
      const script = `const p=require(${JSON.stringify(pty)}).spawn('/bin/sh',['-c','echo from-packaged-pty'],{});let o='';p.onData(d=>o+=d);p.onExit(e=>{console.log(JSON.stringify({o,code:e.exitCode}));})`;
      const r = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', timeout: 20_000 });
      assert.equal(r.status, 0, r.stderr);
      const res = JSON.parse(r.stdout.trim().split('\n').pop()!);
      assert.match(res.o, /from-packaged-pty/);
      assert.equal(res.code, 0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('spawn-helper mode at load (nodePtyLoader)', () => {
  it('on darwin, sets the execute bit node-pty 1.1.0 ships without; elsewhere touches nothing', async () => {
    const { ensureSpawnHelperExecutable } = await import('../../src/server/process/nodePtyLoader');
    const root = mkdtempSync(join(tmpdir(), 'exec-ptymode-'));
    try {
      const mod = join(root, 'node_modules', 'fake-pty');
      mkdirSync(join(mod, 'prebuilds', 'darwin-arm64'), { recursive: true });
      writeFileSync(join(mod, 'package.json'), '{"name":"fake-pty","version":"1.0.0"}');
      const helper = join(mod, 'prebuilds', 'darwin-arm64', 'spawn-helper');
      writeFileSync(helper, 'x', { mode: 0o644 });
      chmodSync(helper, 0o644);
      const { statSync } = await import('node:fs');
      assert.deepEqual(ensureSpawnHelperExecutable(mod, 'linux', 'arm64'), []);
      assert.equal(statSync(helper).mode & 0o777, 0o644);
      assert.deepEqual(ensureSpawnHelperExecutable(mod, 'darwin', 'arm64'), [helper]);
      assert.equal(statSync(helper).mode & 0o777, 0o755);
      assert.deepEqual(ensureSpawnHelperExecutable(mod, 'darwin', 'arm64'), [], 'already executable: nothing to do');
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
