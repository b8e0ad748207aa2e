import { describe, expect, it } from 'vitest';

import { firstLine, fixture } from '../helpers/fixtures.js';
import { isRunning, killQuietly, waitFor } from '../helpers/proc-table.js';
import { launcherFor, skipNote, systemd, TREE_USAGE } from './harness.js';

describe.skipIf(!systemd.available)(`SystemdProcLauncher process tree${skipNote}`, () => {
  const launcher = launcherFor('tree');

  /** Launches a fixture that prints a grandchild's pid first. */
  async function withGrandchild(procId: string, script: 'spawn-grandchild' | 'spawn-escaped-grandchild', arg?: string) {
    const result = await launcher.launch(procId, {
      command: { program: fixture(script), args: arg === undefined ? [] : [arg] },
      wantStdio: true,
    });
    if (result.stdio.kind !== 'captured') throw new Error('expected captured stdio');
    const grandchild = Number(await firstLine(result.stdio.stdout));
    result.stdio.stdout.resume();
    result.stdio.stderr.resume();
    return { result, grandchild };
  }

  it('terminate leaves no process of a unit whose script backgrounded a setsid grandchild', async () => {
    const { result, grandchild } = await withGrandchild('escaped-term', 'spawn-escaped-grandchild');
    try {
      expect(isRunning(grandchild)).toBe(true);
      await launcher.terminate('escaped-term', 5_000);
      expect(await result.exit).toMatchObject({ kind: 'signaled', signal: 15 });
      await waitFor(() => !isRunning(grandchild), `setsid grandchild ${grandchild} to be gone`);
      expect(isRunning(result.pid!)).toBe(false);
    } finally {
      killQuietly(grandchild);
    }
  });

  it('kill reaches the setsid grandchild too', async () => {
    const { result, grandchild } = await withGrandchild('escaped-kill', 'spawn-escaped-grandchild');
    try {
      await launcher.kill('escaped-kill');
      expect(await result.exit).toMatchObject({ kind: 'signaled', signal: 9 });
      await waitFor(() => !isRunning(grandchild), `setsid grandchild ${grandchild} to be gone`);
    } finally {
      killQuietly(grandchild);
    }
  });

  it('stops what is left in the cgroup when the main process exits by itself', async () => {
    const { result, grandchild } = await withGrandchild('leader-exits', 'spawn-grandchild', 'exit');
    try {
      expect(await result.exit).toEqual({ kind: 'exited', code: 0, treeUsage: TREE_USAGE });
      await waitFor(() => !isRunning(grandchild), `orphaned grandchild ${grandchild} to be gone`);
    } finally {
      killQuietly(grandchild);
    }
  });
});
