import { describe, expect, it } from 'vitest';

import { NativeProcLauncher } from '../../src/index.js';
import { firstLine, fixture } from '../helpers/fixtures.js';
import { isRunning, killQuietly, readStat, waitFor } from '../helpers/proc-table.js';

const launcher = new NativeProcLauncher();

async function launchWithGrandchild(procId: string, script: 'spawn-grandchild' | 'spawn-escaped-grandchild', arg?: string) {
  const result = await launcher.launch(procId, {
    command: { program: fixture(script), args: arg === undefined ? [] : [arg] },
    wantStdio: true,
  });
  if (result.stdio.kind !== 'captured') throw new Error('expected captured stdio');
  const grandchild = Number(await firstLine(result.stdio.stdout));
  result.stdio.stdout.resume();
  return { result, grandchild };
}

describe('NativeProcLauncher process tree', () => {
  it("puts each proc in its own process group, in this process's session (default)", async () => {
    const { result, grandchild } = await launchWithGrandchild('session', 'spawn-grandchild');
    const leader = readStat(result.pid!)!;
    expect(leader.session).toBe(readStat(process.pid)!.session);
    expect(leader.pgrp).toBe(result.pid);
    expect(readStat(grandchild)!.pgrp).toBe(result.pid);
    await launcher.kill('session');
    await result.exit;
  });

  it('terminate leaves no backgrounded grandchild alive', async () => {
    const { result, grandchild } = await launchWithGrandchild('tree-term', 'spawn-grandchild');
    expect(isRunning(grandchild)).toBe(true);
    await launcher.terminate('tree-term', 5_000);
    await result.exit;
    await waitFor(() => !isRunning(grandchild), `grandchild ${grandchild} to die`);
  });

  it('kill leaves no backgrounded grandchild alive', async () => {
    const { result, grandchild } = await launchWithGrandchild('tree-kill', 'spawn-grandchild');
    await launcher.kill('tree-kill');
    expect(await result.exit).toMatchObject({ kind: 'signaled', signal: 9 });
    await waitFor(() => !isRunning(grandchild), `grandchild ${grandchild} to die`);
  });

  it('kills what is left of the group when the leader exits (default)', async () => {
    const { result, grandchild } = await launchWithGrandchild('leader-exits', 'spawn-grandchild', 'exit');
    // The background `sleep` was left in the group: killed, and counted.
    expect(await result.exit).toMatchObject({ kind: 'exited', code: 0, orphansKilled: 1 });
    await waitFor(() => !isRunning(grandchild), `orphaned grandchild ${grandchild} to die`);
  });

  it('reports zero orphans for a proc that leaves nothing behind', async () => {
    const result = await launcher.launch('no-orphans', { command: { program: '/bin/sh', args: ['-c', '/bin/true; exit 3'] } });
    expect(await result.exit).toMatchObject({ kind: 'exited', code: 3, orphansKilled: 0 });
  });

  it('leaves the group alone on leader exit when killGroupOnExit is false', async () => {
    const keep = new NativeProcLauncher({ killGroupOnExit: false });
    const result = await keep.launch('keeps-orphans', { command: { program: fixture('spawn-grandchild'), args: ['exit'] }, wantStdio: true });
    if (result.stdio.kind !== 'captured') throw new Error('expected captured stdio');
    const grandchild = Number(await firstLine(result.stdio.stdout));
    try {
      await result.exit;
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(isRunning(grandchild)).toBe(true);
    } finally {
      killQuietly(grandchild);
    }
  });

  it('documents the limit: a setsid-escaped grandchild is outside the group', async () => {
    const { result, grandchild } = await launchWithGrandchild('escaped', 'spawn-escaped-grandchild');
    try {
      await launcher.kill('escaped');
      await result.exit;
      // Without a cgroup the group is all we can reach: the escaped one survives.
      expect(isRunning(grandchild)).toBe(true);
    } finally {
      killQuietly(grandchild);
    }
  });
});
