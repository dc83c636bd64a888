import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { pidAlive } from '../../src/platform/pidAlive';

const failWith = (code: string) => () => {
  throw Object.assign(new Error(code), { code });
};

describe('pidAlive', () => {
  it('is true for this process and false for one that has exited', () => {
    assert.equal(pidAlive(process.pid), true);
    const done = spawnSync(process.execPath, ['-e', '0']);
    assert.ok(done.pid > 0);
    // The child was reaped by spawnSync: its pid names nothing now (pids are not reused this fast).
    assert.equal(pidAlive(done.pid), false);
  });

  it('counts EPERM as alive (the process exists, it is not ours) and ESRCH as gone', () => {
    assert.equal(pidAlive(42, failWith('EPERM')), true);
    assert.equal(pidAlive(42, failWith('ESRCH')), false);
  });

  it('never signals what is not a pid (0 and negatives address process groups)', () => {
    const asked: number[] = [];
    const kill = (pid: number) => void asked.push(pid);
    for (const pid of [0, -1, -process.pid, 1.5, Number.NaN]) assert.equal(pidAlive(pid, kill), false);
    assert.deepEqual(asked, []);
  });
});
