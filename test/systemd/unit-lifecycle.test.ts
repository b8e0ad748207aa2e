// Systemd-only exit details (the shared exit contract is in test/contract/exit-contract.ts):
// escalation past the unit's own stop timeout, an id held by a unit of another launcher,
// and a long-running unit never mistaken for finished.
import { describe, expect, it } from 'vitest';

import { SystemdProcLauncher } from '../../src/index.js';
import { settleCount } from '../contract/backend.js';
import { firstLine, fixture } from '../helpers/fixtures.js';
import { isRunning } from '../helpers/proc-table.js';
import { unitProperty } from './bus-tools.js';
import { busAddress, launcherFor, skipNote, systemd, TREE_USAGE } from './harness.js';

describe.skipIf(!systemd.available)(`SystemdProcLauncher unit lifecycle${skipNote}`, () => {
  const launcher = launcherFor('exit');
  const shortStop = launcherFor('exit-short', { stopTimeoutMs: 100 });

  it('escalates on time also when timeoutMs is longer than the unit stop timeout', async () => {
    const result = await shortStop.launch('stubborn', { command: { program: fixture('ignore-term') }, wantStdio: true });
    if (result.stdio.kind !== 'captured') throw new Error('expected captured stdio');
    expect(await firstLine(result.stdio.stdout)).toBe('ready');
    result.stdio.stdout.resume();
    const started = Date.now();
    await shortStop.terminate('stubborn', 800);
    const exit = await result.exit;
    const elapsed = Date.now() - started;
    expect(exit).toMatchObject({ kind: 'signaled', signal: 9 });
    expect(elapsed).toBeGreaterThanOrEqual(790);
    expect(elapsed).toBeLessThan(800 + 1_500);
  });

  it('rejects an id whose unit another launcher with the same prefix runs (EEXIST), then frees it', async () => {
    const first = await launcher.launch('dup', { command: { program: fixture('forever') } });
    const other = new SystemdProcLauncher({ unitPrefix: 'proclaunch-test-exit-' });
    try {
      await expect(other.launch('dup', { command: { program: '/bin/true' } })).rejects.toMatchObject({ name: 'ProcLauncherError', kind: 'launch', code: 'EEXIST' });
    } finally {
      await other.dispose();
    }
    await launcher.kill('dup');
    await first.exit;
    // Once its exit is read, the id (and its unit name) is free again.
    const second = await launcher.launch('dup', { command: { program: fixture('exit-n'), args: ['2'] } });
    expect(await second.exit).toEqual({ kind: 'exited', code: 2, treeUsage: TREE_USAGE });
  });

  it('does not mistake a unit still running after 12 s for finished', async () => {
    const result = await launcher.launch('long', { command: { program: fixture('forever') } });
    const settled = settleCount(result.exit);
    await new Promise((resolve) => setTimeout(resolve, 12_500));
    expect(settled.settled()).toBe(false);
    expect(isRunning(result.pid!)).toBe(true);
    expect(await unitProperty(busAddress(), launcher.unitNameOf('long'), 'Unit', 'ActiveState')).toBe('active');
    await launcher.kill('long');
    expect(await result.exit).toMatchObject({ kind: 'signaled', signal: 9 });
  }, 30_000);
});
