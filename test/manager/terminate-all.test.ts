import { afterAll, describe, expect, it } from 'vitest';

import type { LaunchOptions, LaunchResult, ProcLauncher } from '../../src/index.js';
import { runBounded } from '../../src/manager/bounded-pool.js';
import { fixture } from '../helpers/fixtures.js';
import { CountingLauncher } from '../helpers/fake-launchers.js';
import { LineCollector, quietManager, expectNoLeftovers } from '../helpers/manager.js';
import { isRunning } from '../helpers/proc-table.js';

describe('terminateAll', () => {
  it('stops every live proc with at most `concurrency` in flight, and reports counts', async () => {
    const launcher = new CountingLauncher();
    const output = new LineCollector();
    const m = quietManager({ launcher, logSink: output.sink });
    try {
      const handles = [];
      for (let i = 0; i < 6; i++) {
        const h = await m.spawn(`stubborn-${i}`, { program: fixture('ignore-term') });
        await output.waitFor(`stubborn-${i}`, 'ready');
        handles.push(h);
      }
      const done = await (await m.spawn('already-done', { program: fixture('exit-n'), args: ['0'] })).wait();
      expect(done.state).toBe('stopped');

      const observed = new Set<string>();
      const result = m.terminateAll({ timeoutMs: 150, concurrency: 2 });
      // Statuses stay queryable while it runs.
      for (const h of handles) observed.add(m.status(h.procId)!.state);
      expect(await result).toEqual({ attempted: 6, ok: 6, failed: 0 });
      expect(launcher.maxInFlight).toBe(2);
      expect([...observed].every((state) => state === 'stopping' || state === 'running')).toBe(true);
      for (const h of handles) {
        expect(m.status(h.procId)).toMatchObject({ state: 'killed', signalName: 'SIGKILL' });
        expect(isRunning(h.pid!)).toBe(false);
      }
      expect(m.status('already-done')).toBe(done);
      // Nothing live: nothing attempted.
      expect(await m.terminateAll({ timeoutMs: 10 })).toEqual({ attempted: 0, ok: 0, failed: 0 });
    } finally {
      await m.dispose();
    }
  });

  it('counts a proc the launcher cannot stop as failed', async () => {
    let launcherDisposed = false;
    const broken: ProcLauncher = {
      async launch(_procId: string, _opts: LaunchOptions): Promise<LaunchResult> {
        const exit = new Promise<never>(() => {});
        return { pid: null, startedAt: new Date(), stdio: { kind: 'managed-by-launcher' }, stdin: null, exit };
      },
      async terminate(): Promise<void> {
        throw new Error('bus is down');
      },
      async kill(): Promise<void> {
        throw new Error('bus is down');
      },
      async dispose(): Promise<void> {
        launcherDisposed = true;
      },
    };
    const m = quietManager({ launcher: broken });
    await m.spawn('unstoppable', { program: '/bin/true' });
    expect(await m.terminateAll({ timeoutMs: 10, concurrency: 1 })).toEqual({ attempted: 1, ok: 0, failed: 1 });
    // No exit was observed, so the manager does not pretend it ended.
    expect(m.status('unstoppable')).toMatchObject({ state: 'stopping' });
    await m.dispose();
    // A launcher the user owns is not disposed by the manager.
    expect(launcherDisposed).toBe(false);
  });

  it('checks its options', async () => {
    const m = quietManager();
    await expect(m.terminateAll({ concurrency: 0 })).rejects.toThrow(RangeError);
    await expect(m.terminateAll({ timeoutMs: -5 })).rejects.toThrow(RangeError);
    await expect(m.terminateAll({ timeoutMS: 5 } as never)).rejects.toThrow(/did you mean "timeoutMs"/);
    await m.dispose();
  });
});

describe('runBounded', () => {
  it('never runs more than the limit and runs everything once', async () => {
    let inFlight = 0;
    let max = 0;
    const seen: number[] = [];
    await runBounded([1, 2, 3, 4, 5, 6, 7], 3, async (n) => {
      inFlight++;
      max = Math.max(max, inFlight);
      await new Promise((resolve) => setImmediate(resolve));
      seen.push(n);
      inFlight--;
    });
    expect(max).toBe(3);
    expect(seen.sort()).toEqual([1, 2, 3, 4, 5, 6, 7]);
  });
});

afterAll(() => expectNoLeftovers());
