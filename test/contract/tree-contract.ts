// Termination reaches the whole launched tree, not only the returned pid; terminate
// escalates to SIGKILL at timeoutMs when SIGTERM is ignored.
import { expect, it } from 'vitest';

import type { LaunchResult } from '../../src/index.js';
import { firstLine, fixture } from '../helpers/fixtures.js';
import { isRunning, killQuietly, waitFor } from '../helpers/proc-table.js';
import { capturedErr, capturedOut, contractIt, exitOf, type ContractBackend } from './backend.js';

type GrandchildFixture = 'spawn-grandchild' | 'spawn-escaped-grandchild';

export function defineTreeContract(backend: ContractBackend): void {
  const caps = backend.capabilities;
  const launcher = (): ReturnType<ContractBackend['launcher']> => backend.launcher();

  /** Launches a fixture that prints a grandchild's pid first. */
  async function withGrandchild(procId: string, script: GrandchildFixture, arg?: string): Promise<{ result: LaunchResult; grandchild: number }> {
    const result = await launcher().launch(procId, {
      command: { program: fixture(script), args: arg === undefined ? [] : [arg] },
      wantStdio: true,
    });
    const grandchild = Number(await firstLine(capturedOut(result)));
    capturedOut(result).resume();
    capturedErr(result).resume();
    expect(Number.isInteger(grandchild) && grandchild > 1).toBe(true);
    return { result, grandchild };
  }

  it('terminate leaves no backgrounded grandchild alive', async () => {
    const { result, grandchild } = await withGrandchild('tree-term', 'spawn-grandchild');
    try {
      expect(isRunning(grandchild)).toBe(true);
      await launcher().terminate('tree-term', 5_000);
      expect(await result.exit).toMatchObject({ kind: 'signaled', signal: 15 });
      await waitFor(() => !isRunning(grandchild), `grandchild ${grandchild} to die`);
    } finally {
      killQuietly(grandchild);
    }
  });

  it('kill leaves no backgrounded grandchild alive', async () => {
    const { result, grandchild } = await withGrandchild('tree-kill', 'spawn-grandchild');
    try {
      await launcher().kill('tree-kill');
      expect(await result.exit).toMatchObject({ kind: 'signaled', signal: 9 });
      await waitFor(() => !isRunning(grandchild), `grandchild ${grandchild} to die`);
    } finally {
      killQuietly(grandchild);
    }
  });

  contractIt(backend, 'leader-exit-leftovers')('stops what is left of the tree when the leader exits by itself', async () => {
    const { result, grandchild } = await withGrandchild('leader-exits', 'spawn-grandchild', 'exit');
    try {
      // The background `sleep` was left behind: killed (and, where counted, counted). The
      // wait is bounded so a backend that waits for the leftover fails here, not at the file's timeout.
      const exit = await Promise.race([result.exit, new Promise<'still waiting'>((resolve) => setTimeout(() => resolve('still waiting'), 30_000))]);
      expect(exit).toEqual(exitOf(backend, { kind: 'exited', code: 0 }, 1));
      await waitFor(() => !isRunning(grandchild), `orphaned grandchild ${grandchild} to die`);
    } finally {
      killQuietly(grandchild);
      await launcher().kill('leader-exits');
      await result.exit;
    }
  });

  if (caps.orphansKilled) {
    it('reports zero orphans for a proc that leaves nothing behind', async () => {
      const result = await launcher().launch('no-orphans', { command: { program: '/bin/sh', args: ['-c', '/bin/true; exit 3'] } });
      expect(await result.exit).toEqual(exitOf(backend, { kind: 'exited', code: 3 }, 0));
    });
  }

  if (caps.treeKill === 'tree') {
    it('terminate leaves no process of a proc whose script backgrounded a setsid grandchild', async () => {
      const { result, grandchild } = await withGrandchild('escaped-term', 'spawn-escaped-grandchild');
      try {
        expect(isRunning(grandchild)).toBe(true);
        await launcher().terminate('escaped-term', 5_000);
        expect(await result.exit).toMatchObject({ kind: 'signaled', signal: 15 });
        await waitFor(() => !isRunning(grandchild), `setsid grandchild ${grandchild} to be gone`);
        if (caps.localPids) expect(isRunning(result.pid!)).toBe(false);
      } finally {
        killQuietly(grandchild);
      }
    });

    it('kill reaches the setsid grandchild too', async () => {
      const { result, grandchild } = await withGrandchild('escaped-kill', 'spawn-escaped-grandchild');
      try {
        await launcher().kill('escaped-kill');
        expect(await result.exit).toMatchObject({ kind: 'signaled', signal: 9 });
        await waitFor(() => !isRunning(grandchild), `setsid grandchild ${grandchild} to be gone`);
      } finally {
        killQuietly(grandchild);
      }
    });
  } else {
    it('documents the limit: a setsid-escaped grandchild is outside the group', async () => {
      const { result, grandchild } = await withGrandchild('escaped', 'spawn-escaped-grandchild');
      try {
        await launcher().kill('escaped');
        expect(await result.exit).toMatchObject({ kind: 'signaled', signal: 9 });
        // The group is all this backend reaches: the escaped one survives.
        expect(isRunning(grandchild)).toBe(true);
      } finally {
        killQuietly(grandchild);
      }
    });
  }

  it('terminate of a SIGTERM-ignoring proc escalates to SIGKILL at timeoutMs; a second terminate does not push it back', async () => {
    const result = await launcher().launch('stubborn', { command: { program: fixture('ignore-term') }, wantStdio: true });
    expect(await firstLine(capturedOut(result))).toBe('ready');
    capturedOut(result).resume();
    const started = Date.now();
    await launcher().terminate('stubborn', 400);
    await launcher().terminate('stubborn', 5_000);
    const exit = await result.exit;
    const elapsed = Date.now() - started;
    expect(exit).toMatchObject({ kind: 'signaled', signal: 9, signalName: 'SIGKILL' });
    expect(elapsed).toBeGreaterThanOrEqual(390);
    // Only where the backend promises a bound (the rules of the house forbid timing limits otherwise).
    if (caps.escalationSlackMs !== null) expect(elapsed).toBeLessThan(400 + caps.escalationSlackMs);
  });

  it('a second, shorter terminate brings the escalation forward', async () => {
    const result = await launcher().launch('stubborn-2', { command: { program: fixture('ignore-term') }, wantStdio: true });
    expect(await firstLine(capturedOut(result))).toBe('ready');
    capturedOut(result).resume();
    const started = Date.now();
    await launcher().terminate('stubborn-2', 600_000);
    await launcher().terminate('stubborn-2', 300);
    const exit = await result.exit;
    expect(exit).toMatchObject({ kind: 'signaled', signal: 9, signalName: 'SIGKILL' });
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);
  });
}
