// The manager over the systemd backend: sd_notify readiness from inside a unit.
import { describe, expect, it } from 'vitest';

import { ProcManager } from '../../src/index.js';
import { launcherFor, skipNote, systemd } from './harness.js';

describe.skipIf(!systemd.available)(`ProcManager on the systemd backend${skipNote}`, () => {
  const launcher = launcherFor('manager');

  it('a unit becomes ready through the stock systemd-notify --ready', async () => {
    const manager = new ProcManager({ launcher, forwardOutput: false, readyTimeoutMs: 20_000 });
    try {
      const handle = await manager.spawn('notifier', {
        program: '/bin/sh',
        args: ['-c', 'systemd-notify --ready --status="serving in a unit" PROCLAUNCH_ADDR=127.0.0.1:7777; exec sleep 1000'],
      });
      const ready = await handle.ready();
      expect(ready).toMatchObject({ state: 'ready', statusText: 'serving in a unit', addr: '127.0.0.1:7777' });
      expect(ready.pid).toBeGreaterThan(1);
      const end = await handle.terminate(5_000);
      expect(end).toMatchObject({ state: 'killed', signal: 15 });
    } finally {
      await manager.dispose();
    }
  });

  it('a unit that exits before it is ready rejects ready() with its terminal status', async () => {
    const manager = new ProcManager({ launcher, forwardOutput: false });
    try {
      const handle = await manager.spawn('quitter', { program: '/bin/sh', args: ['-c', 'echo giving up >&2; exit 4'] });
      await expect(handle.ready()).rejects.toMatchObject({ state: 'stopped', exitCode: 4 });
      expect(handle.status()).toMatchObject({ state: 'stopped', exitCode: 4, stderrTail: ['giving up'] });
    } finally {
      await manager.dispose();
    }
  });
});
