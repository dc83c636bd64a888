// Entry point loaded by VS Code's extension host (extensionTestsPath): runs the mocha suite
// in this folder and reports `RESULT <passed> <failed> <skipped>` for the runner (skipped: tests
// that call this.skip(), e.g. not applicable to this VS Code version; see vscodeVersion.ts).
import * as fs from 'node:fs';
import * as path from 'node:path';
import Mocha = require('mocha');

export function run(): Promise<void> {
  const mocha = new Mocha({ ui: 'bdd', color: false, timeout: 60_000, reporter: 'spec' });
  // EXEC_SERVER_SUITE_FILES=a,b runs only the files whose names start with a or b (while developing).
  const only = process.env.EXEC_SERVER_SUITE_FILES?.split(',').filter(Boolean);
  if (only?.length === 0) only.push('');
  for (const f of fs.readdirSync(__dirname).sort()) {
    if (f.endsWith('.test.js') && (!only || only.some((o) => f.startsWith(o)))) mocha.addFile(path.join(__dirname, f));
  }
  return new Promise((resolve, reject) => {
    let passed = 0;
    let failed = 0;
    let skipped = 0;
    const runner = mocha.run(() => {
      console.log(`RESULT ${passed} ${failed} ${skipped}`);
      if (failed > 0) reject(new Error(`${failed} test(s) failed`));
      else resolve();
    });
    runner.on('pass', () => passed++);
    runner.on('fail', () => failed++);
    runner.on('pending', () => skipped++);
  });
}
