// @ts-check
// Lint for the whole repo: typescript-eslint's recommended rules, no floating promises (an
// un-awaited promise here is usually a lost error or a race), no import cycles, and the layer rule
// from the README (protocol ← server ← transport/client ← mcp/cli/extension; only the extension
// imports 'vscode').
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import { importX, createNodeResolver } from 'eslint-plugin-import-x';
import globals from 'globals';

/**
 * no-restricted-imports pattern: a relative import into one of `layers` (src/<layer>/…).
 * @param {string[]} layers
 * @param {string} why
 */
function intoLayers(layers, why) {
  return { regex: `^(\\.\\./)+(${layers.join('|')})(/|$)`, message: why };
}

/** 'vscode' may only be imported by src/extension (every other layer also runs in the CLI). */
const noVscode = { name: 'vscode', message: 'Only src/extension/** may import vscode: the rest runs in the standalone CLI too.' };

export default tseslint.config(
  { linterOptions: { reportUnusedDisableDirectives: 'error' } },
  {
    // Build output, caches and downloads (see .gitignore).
    ignores: ['node_modules/**', 'dist/**', 'out/**', '.bench-results/**', 'test-results/**', 'packages/**', '.vscode-test/**', '**/*.d.ts'],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    languageOptions: {
      parserOptions: {
        // tsconfig.test.json covers src, test and bench: one program, type info for every .ts file.
        project: ['./tsconfig.test.json'],
        tsconfigRootDir: import.meta.dirname,
      },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': [
        'error',
        {
          // node:test's test()/describe()/it() return promises the runner itself awaits.
          allowForKnownSafeCalls: [{ from: 'package', package: 'node:test', name: ['test', 'it', 'describe', 'suite', 'before', 'after', 'beforeEach', 'afterEach'] }],
        },
      ],
      // Cheap type-aware checks (the rest of recommendedTypeChecked is ~1000 no-unsafe-* hits on tests' untyped JSON).
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/await-thenable': 'error',
      // `typeof import('node-pty')` annotations go with the lazy require()s of optional/native modules.
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports', disallowTypeAnnotations: false }],
    },
  },
  {
    rules: {
      // `const { jsonrpc: _omit, ...rest } = m` drops a key on purpose; `_x` marks a deliberately unused name.
      '@typescript-eslint/no-unused-vars': ['error', { ignoreRestSiblings: true, argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      // `catch {}` is this codebase's best-effort clean-up (kill/unlink of something that may be gone).
      'no-empty': ['error', { allowEmptyCatch: true }],
      // `import x = require('…')` is TypeScript's CommonJS import (mocha's test index needs it).
      '@typescript-eslint/no-require-imports': ['error', { allowAsImport: true }],
    },
  },
  {
    // Tests read untyped JSON-RPC/MCP results field by field; typing every one would add noise, not safety.
    files: ['test/**', 'bench/**'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
  {
    // The ANSI stripper matches control characters by design.
    files: ['src/text/ansi.ts'],
    rules: { 'no-control-regex': 'off' },
  },
  {
    files: ['**/*.mjs', '**/*.js', '**/*.cjs'],
    languageOptions: { globals: { ...globals.node } },
  },
  {
    // The fixture extension and anything else handed to VS Code as plain CommonJS.
    files: ['**/*.js', '**/*.cjs'],
    languageOptions: { sourceType: 'commonjs' },
    rules: {
      // Plain CommonJS: require() is how it imports, and `const crypto = require('node:crypto')` shadows Node's global on purpose.
      '@typescript-eslint/no-require-imports': 'off',
      'no-redeclare': ['error', { builtinGlobals: false }],
    },
  },
  {
    plugins: { 'import-x': importX },
    settings: {
      // import-x only follows files with these extensions (default: .js), parsing .ts with the TS parser.
      'import-x/extensions': ['.ts', '.mjs', '.js'],
      'import-x/parsers': { '@typescript-eslint/parser': ['.ts'] },
      'import-x/resolver-next': [createNodeResolver({ extensions: ['.ts', '.mjs', '.js', '.json', '.node'] })],
    },
    rules: {
      'import-x/no-cycle': 'error',
    },
  },
  {
    files: ['src/**/*.ts'],
    ignores: ['src/extension/**'],
    rules: { 'no-restricted-imports': ['error', { paths: [noVscode] }] },
  },
  {
    files: ['src/protocol/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [noVscode],
          patterns: [intoLayers(['server', 'transport', 'client', 'extension', 'mcp', 'cli'], 'src/protocol is wire types only: it imports no other layer.')],
        },
      ],
    },
  },
  {
    files: ['src/server/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [noVscode],
          patterns: [intoLayers(['client', 'extension', 'mcp', 'cli'], 'src/server never imports its clients (client, extension, mcp, cli).')],
        },
      ],
    },
  },
  {
    files: ['src/mcp/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [noVscode],
          patterns: [intoLayers(['server'], 'src/mcp is a client of the server: it talks to it over the wire (src/client), never to its internals.')],
        },
      ],
    },
  },
);
