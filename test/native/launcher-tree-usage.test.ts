import { existsSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';

import { NativeProcLauncher } from '../../src/index.js';
import { removeCgroupTree, testCgroupRoot } from '../helpers/cgroup.js';
import { fixture, readAll } from '../helpers/fixtures.js';

const root = testCgroupRoot('tree-usage');
const rootPath = 'path' in root ? root.path : '';
afterAll(() => {
  if (rootPath !== '') removeCgroupTree(rootPath);
});
/** /proc/<pid>/stat counts CPU in USER_HZ ticks, 100 a second on Linux. */
const MS_PER_TICK = 10;

describe.skipIf('skip' in root)('NativeProcLauncher treeUsage (with a cgroup per proc)', () => {
  const launcher = 'path' in root ? new NativeProcLauncher({ cgroup: root.path }) : (undefined as never);
  afterAll(async () => {
    await launcher.dispose();
    expect(existsSync(rootPath)).toBe(false);
  });

  it("counts a setsid'd grandchild's CPU in treeUsage, never in the leader's rusage", async () => {
    const result = await launcher.launch('busy', { command: { program: fixture('escaped-busy-grandchild') }, wantStdio: true });
    if (result.stdio.kind !== 'captured') throw new Error('expected captured stdio');
    const grandchildMs = Number((await readAll(result.stdio.stdout)).trim()) * MS_PER_TICK;
    const exit = await result.exit;
    expect(exit).toMatchObject({ kind: 'exited', code: 0 });
    // The loop is sized to burn well over a few ticks: otherwise the comparison says nothing.
    expect(grandchildMs).toBeGreaterThanOrEqual(50);
    const leaderMs = exit.rusage!.userMs + exit.rusage!.systemMs;
    expect(leaderMs).toBeLessThan(grandchildMs);
    const tree = exit.treeUsage!;
    expect(tree).toBeDefined();
    expect(tree.cpuMs).toBeGreaterThanOrEqual(grandchildMs);
    expect(tree.userMs! + tree.systemMs!).toBeCloseTo(tree.cpuMs, 6);
    // This host's cgroup v2 has no memory controller: the peak is absent, not made up.
    if (!existsSync(`${rootPath}/memory.peak`)) expect(tree.peakMemoryKb).toBeUndefined();
    else expect(tree.peakMemoryKb).toBeGreaterThan(0);
  });

  it('still reads treeUsage when the tree is killed (its cgroup outlives the kill until read)', async () => {
    const result = await launcher.launch('killed', { command: { program: fixture('spawn-escaped-grandchild') }, wantStdio: true });
    if (result.stdio.kind !== 'captured') throw new Error('expected captured stdio');
    result.stdio.stdout.resume();
    await launcher.kill('killed');
    const exit = await result.exit;
    expect(exit).toMatchObject({ kind: 'signaled', signal: 9 });
    expect(exit.treeUsage?.cpuMs).toBeGreaterThanOrEqual(0);
    expect(exit.treeUsage?.userMs).toBeTypeOf('number');
  });
});

describe('NativeProcLauncher treeUsage without a cgroup', () => {
  it('is absent: no cgroup, no whole-tree figure (rusage is the leader only)', async () => {
    const plain = new NativeProcLauncher();
    const result = await plain.launch('plain', { command: { program: '/bin/true' } });
    const exit = await result.exit;
    expect(exit.rusage).toBeDefined();
    expect(exit.treeUsage).toBeUndefined();
    await plain.dispose();
  });
});
