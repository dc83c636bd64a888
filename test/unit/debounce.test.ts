import { strict as assert } from 'node:assert';
import { describe, it, mock } from 'node:test';
import { debounce } from '../../src/extension/debounce';

describe('debounce', () => {
  it('runs once, ms after the first call of a burst; later calls join it rather than push it back', (t) => {
    mock.timers.enable({ apis: ['setTimeout'] });
    t.after(() => mock.timers.reset());
    let runs = 0;
    const d = debounce(() => runs++, 200);
    d();
    mock.timers.tick(150);
    d(); // joins the pending run
    mock.timers.tick(49);
    assert.equal(runs, 0);
    mock.timers.tick(1);
    assert.equal(runs, 1, 'due 200 ms after the first call, not the last');
    mock.timers.tick(1000);
    assert.equal(runs, 1, 'nothing pending after the run');
    // A steady stream (a call every 50 ms) still runs every 200 ms.
    for (let i = 0; i < 40; i++) {
      d();
      mock.timers.tick(50);
    }
    assert.equal(runs, 1 + 10);
  });

  it('dispose cancels the pending run; a later call schedules afresh', (t) => {
    mock.timers.enable({ apis: ['setTimeout'] });
    t.after(() => mock.timers.reset());
    let runs = 0;
    const d = debounce(() => runs++, 100);
    d();
    d.dispose();
    mock.timers.tick(1000);
    assert.equal(runs, 0);
    d();
    mock.timers.tick(100);
    assert.equal(runs, 1);
  });
});
