// The bench charges native for its spawn server's CPU: the server must be found (and
// only it), its figure must move with the work it does, and a changed set of servers
// must give no figure rather than a wrong one.
import { afterEach, describe, expect, it } from 'vitest';

import { helperCpuBetween, spawnServerCpu } from '../../src/bench/helper-cpu.js';
import { NativeProcLauncher } from '../../src/index.js';

const launchers: NativeProcLauncher[] = [];
afterEach(async () => {
  await Promise.all(launchers.splice(0).map((launcher) => launcher.dispose()));
});

describe('spawnServerCpu', () => {
  it('finds no server before the first launch, then exactly ours, and none after dispose', async () => {
    expect(spawnServerCpu().pids).toEqual([]);
    const launcher = new NativeProcLauncher();
    launchers.push(launcher);
    await (await launcher.launch('first', { command: { program: '/bin/true' } })).exit;
    const before = spawnServerCpu();
    expect(before.pids).toHaveLength(1);
    // Its children (the procs) are ours too (CLONE_PARENT), but are not counted as servers.
    const forever = await launcher.launch('stays', { command: { program: '/bin/sleep', args: ['30'] } });
    expect(spawnServerCpu().pids).toEqual(before.pids);
    await launcher.kill('stays');
    await forever.exit;
    for (let i = 0; i < 300; i++) await (await launcher.launch(`p${i}`, { command: { program: '/bin/true' } })).exit;
    const after = spawnServerCpu();
    const used = helperCpuBetween(before, after);
    expect(used).not.toBeNull();
    // 300 clones cost it some ticks of CPU (40 ms here): the figure moves with its work.
    expect(used!).toBeGreaterThan(0);
    await launcher.dispose();
    expect(spawnServerCpu().pids).toEqual([]);
    // A server that went (or came) between two readings gives no figure.
    expect(helperCpuBetween(after, spawnServerCpu())).toBeNull();
  });
});
