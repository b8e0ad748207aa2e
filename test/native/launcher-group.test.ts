// Native-only process-group details (tree kill itself is in test/contract/tree-contract.ts):
// the group and session a proc gets, and killGroupOnExit: false.
import { describe, expect, it } from 'vitest';

import { NativeProcLauncher } from '../../src/index.js';
import { firstLine, fixture } from '../helpers/fixtures.js';
import { isRunning, killQuietly, readStat } from '../helpers/proc-table.js';

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

describe('NativeProcLauncher process group', () => {
  it("puts each proc in its own process group, in this process's session (default)", async () => {
    const { result, grandchild } = await launchWithGrandchild('session', 'spawn-grandchild');
    const leader = readStat(result.pid!)!;
    expect(leader.session).toBe(readStat(process.pid)!.session);
    expect(leader.pgrp).toBe(result.pid);
    expect(readStat(grandchild)!.pgrp).toBe(result.pid);
    await launcher.kill('session');
    await result.exit;
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
});
