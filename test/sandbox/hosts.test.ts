/**
 * The extension's `execServer.codexPath` reaches the server in both host modes (as config
 * in-process, as `--codex-path` for the child), and each mode logs the sandbox status.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { startChildHost } from '../../src/extension/host/childHost';
import { startInProcessHost } from '../../src/extension/host/inProcessHost';
import type { HostOptions, ServerHost } from '../../src/extension/host/serverHost';
import { ProcessGuard, waitUntil } from '../helpers/procs';
import { RawWs } from '../helpers/rawWs';

const guard = new ProcessGuard();
const ROOT = path.resolve(__dirname, '..', '..', '..');
const CODEX_PATH = '/nonexistent/codex-from-setting';

for (const mode of ['inProcess', 'child'] as const) {
  test(`${mode} host: codexPath is used by the server and the sandbox status is logged`, async () => {
    const logs: string[] = [];
    const o: HostOptions = {
      host: '127.0.0.1',
      port: 0,
      token: randomBytes(16).toString('hex'),
      config: { codexPath: CODEX_PATH, terminateGraceMs: 300 },
      extensionPath: ROOT,
      log: (m) => logs.push(m),
    };
    const host: ServerHost = mode === 'child' ? await startChildHost(o) : await startInProcessHost(o);
    if (mode === 'child') guard.track((host as ServerHost & { pid: number }).pid);
    guard.onCleanup(() => host.stop());
    if (mode === 'child') {
      const pid = (host as ServerHost & { pid: number }).pid;
      const argv = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
      assert.equal(argv[argv.indexOf('--codex-path') + 1], CODEX_PATH);
    }
    const ws = await RawWs.open(host.url, { token: host.token });
    await ws.handshake('host-test');
    let info: any;
    await waitUntil(async () => {
      info = await ws.result('environment/info', {});
      return info.sandbox.state !== 'unchecked';
    }, 'the sandbox check');
    assert.equal(info.sandbox.state, 'unavailable');
    assert.match(info.sandbox.reason, /codex-from-setting is not a usable file/);
    await waitUntil(() => logs.some((l) => /sandbox: requests with a sandbox will be refused: the codex path \/nonexistent\/codex-from-setting/.test(l)), `the log line (logs: ${logs.join(' | ')})`);
    await ws.close();
    await host.stop();
  });
}
