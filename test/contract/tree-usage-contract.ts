// treeUsage: what the whole tree used (a setsid'd grandchild included), where the backend
// has a cgroup per proc to tell it; absent where it has not.
import { expect, it } from 'vitest';

import { fixture, readAll } from '../helpers/fixtures.js';
import { capturedOut, type ContractBackend } from './backend.js';

/** /proc/<pid>/stat counts CPU in USER_HZ ticks, 100 a second on Linux. */
const MS_PER_TICK = 10;

export interface TreeUsageOptions {
  /** Whether the tree's peak memory can be known (cgroup v2 memory controller on): then it is > 0, else absent. */
  memoryPeak: () => boolean;
}

export function defineTreeUsageContract(backend: ContractBackend, options: TreeUsageOptions = { memoryPeak: () => false }): void {
  const caps = backend.capabilities;
  const launcher = (): ReturnType<ContractBackend['launcher']> => backend.launcher();

  if (caps.treeUsage === 'none') {
    it('treeUsage is absent: no cgroup, no whole-tree figure (rusage, where given, is the leader only)', async () => {
      const result = await launcher().launch('plain', { command: { program: '/bin/true' } });
      const exit = await result.exit;
      if (caps.rusage) expect(exit.rusage).toBeDefined();
      else expect(exit.rusage).toBeUndefined();
      expect(exit.treeUsage).toBeUndefined();
    });
    return;
  }

  it(`counts a setsid'd grandchild's CPU in treeUsage (${caps.treeUsage === 'split' ? 'with the user/system split' : 'total only'}), never in the leader's rusage`, async () => {
    const result = await launcher().launch('busy', { command: { program: fixture('escaped-busy-grandchild') }, wantStdio: true });
    const grandchildMs = Number((await readAll(capturedOut(result))).trim()) * MS_PER_TICK;
    const exit = await result.exit;
    expect(exit).toMatchObject({ kind: 'exited', code: 0 });
    // The loop is sized to burn well over a few ticks: otherwise the comparison says nothing.
    expect(grandchildMs).toBeGreaterThanOrEqual(50);
    if (caps.rusage) expect(exit.rusage!.userMs + exit.rusage!.systemMs).toBeLessThan(grandchildMs);
    const tree = exit.treeUsage!;
    expect(tree).toBeDefined();
    expect(tree.cpuMs).toBeGreaterThanOrEqual(grandchildMs);
    if (caps.treeUsage === 'split') {
      expect(tree.userMs! + tree.systemMs!).toBeCloseTo(tree.cpuMs, 6);
    } else {
      // The backend tells the total only: no user/system split.
      expect(tree.userMs).toBeUndefined();
      expect(tree.systemMs).toBeUndefined();
    }
    // Without a memory controller the peak is absent, not made up.
    if (options.memoryPeak()) expect(tree.peakMemoryKb).toBeGreaterThan(0);
    else expect(tree.peakMemoryKb).toBeUndefined();
  });

  it('still reads treeUsage when the tree is killed', async () => {
    const result = await launcher().launch('killed', { command: { program: fixture('spawn-escaped-grandchild') }, wantStdio: true });
    capturedOut(result).resume();
    await launcher().kill('killed');
    const exit = await result.exit;
    expect(exit).toMatchObject({ kind: 'signaled', signal: 9 });
    expect(exit.treeUsage?.cpuMs).toBeGreaterThanOrEqual(0);
    if (caps.treeUsage === 'split') expect(exit.treeUsage?.userMs).toBeTypeOf('number');
  });
}
