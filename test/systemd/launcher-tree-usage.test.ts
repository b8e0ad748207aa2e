import { describe, expect, it } from 'vitest';

import { fixture, readAll } from '../helpers/fixtures.js';
import { launcherFor, skipNote, systemd } from './harness.js';

/** /proc/<pid>/stat counts CPU in USER_HZ ticks, 100 a second on Linux. */
const MS_PER_TICK = 10;

describe.skipIf(!systemd.available)(`SystemdProcLauncher treeUsage${skipNote}`, () => {
  const launcher = launcherFor('tree-usage');

  it("counts a setsid'd grandchild's CPU (the unit's CPUUsageNSec), total only", async () => {
    const result = await launcher.launch('busy', { command: { program: fixture('escaped-busy-grandchild') }, wantStdio: true });
    if (result.stdio.kind !== 'captured') throw new Error('expected captured stdio');
    const grandchildMs = Number((await readAll(result.stdio.stdout)).trim()) * MS_PER_TICK;
    const exit = await result.exit;
    expect(exit).toMatchObject({ kind: 'exited', code: 0 });
    expect(grandchildMs).toBeGreaterThanOrEqual(50);
    expect(exit.treeUsage).toBeDefined();
    expect(exit.treeUsage!.cpuMs).toBeGreaterThanOrEqual(grandchildMs);
    // systemd tells the total only; no user/system split and (systemd 252) no peak memory.
    expect(exit.treeUsage!.userMs).toBeUndefined();
    expect(exit.treeUsage!.peakMemoryKb).toBeUndefined();
  });
});
