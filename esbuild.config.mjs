// Bundles the CLI (dist/cli.js) and the extension (dist/extension.js, when present).
// node-pty is native and stays external (loaded at run time); so is `vscode`.
import { build } from 'esbuild';
import { existsSync, readFileSync } from 'node:fs';

const pkg = JSON.parse(readFileSync(new URL('./package.json', import.meta.url), 'utf8'));
const production = process.argv.includes('--production');
/** @type {import('esbuild').BuildOptions} */
const common = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  sourcemap: !production,
  minify: production,
  external: ['node-pty', 'vscode'],
  define: { EXEC_SERVER_VERSION: JSON.stringify(pkg.version) },
  logLevel: 'warning',
};

/** @type {{ in: string, out: string, banner?: { js: string } }[]} */
const entries = [{ in: 'src/cli/main.ts', out: 'dist/cli.js', banner: { js: '#!/usr/bin/env node' } }];
// The orphan-proofing watchdog process, found next to cli.js and extension.js (src/server/process/groupWatchdog.ts).
entries.push({ in: 'src/cli/watchdog.ts', out: 'dist/watchdog.js' });
if (existsSync('src/extension/extension.ts')) entries.push({ in: 'src/extension/extension.ts', out: 'dist/extension.js' });

await Promise.all(
  entries.map((e) => build({ ...common, entryPoints: [e.in], outfile: e.out, ...(e.banner ? { banner: e.banner } : {}) })),
);
