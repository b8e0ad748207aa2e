import { readFileSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

import { NativeProcLauncher, ProcLauncherError, type ProcExitResult } from '../../src/index.js';
import { fixture } from '../helpers/fixtures.js';
import { isRunning, zombieChildren } from '../helpers/proc-table.js';

function countSettles(promise: Promise<ProcExitResult>, counts: Map<string, number>, id: string): Promise<ProcExitResult> {
  return promise.then((result) => {
    counts.set(id, (counts.get(id) ?? 0) + 1);
    return result;
  });
}

describe('races', () => {
  it('terminate and kill racing the proc\'s own exit', async () => {
    const launcher = new NativeProcLauncher();
    const counts = new Map<string, number>();
    const exits: Array<Promise<ProcExitResult>> = [];
    for (let i = 0; i < 200; i++) {
      const id = `racer-${i}`;
      const result = await launcher.launch(id, { command: { program: '/bin/true' } });
      exits.push(countSettles(result.exit, counts, id));
      // Land the signals before, during and after the exit.
      if (i % 3 === 0) await launcher.kill(id);
      if (i % 3 === 1) await launcher.terminate(id, 0);
      setImmediate(() => void launcher.kill(id));
    }
    const results = await Promise.all(exits);
    for (const result of results) {
      expect(
        (result.kind === 'exited' && result.code === 0) || (result.kind === 'signaled' && (result.signal === 9 || result.signal === 15)),
        JSON.stringify(result),
      ).toBe(true);
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect([...counts.values()].every((count) => count === 1)).toBe(true);
    expect(counts.size).toBe(200);
    expect(zombieChildren()).toEqual([]);
  });

  it('dispose() during a batch of launches', async () => {
    const launcher = new NativeProcLauncher();
    const launched: Array<Promise<ProcExitResult>> = [];
    const rejected: unknown[] = [];
    const batch = Array.from({ length: 60 }, (_, i) =>
      launcher.launch(`batch-${i}`, { command: { program: fixture('forever') } }).then(
        (result) => launched.push(result.exit),
        (error: unknown) => rejected.push(error),
      ),
    );
    const disposing = launcher.dispose();
    const late = Array.from({ length: 10 }, (_, i) =>
      launcher.launch(`late-${i}`, { command: { program: fixture('forever') } }).catch((error: unknown) => rejected.push(error)),
    );
    await Promise.all([...batch, ...late, disposing]);
    for (const exit of launched) expect(await exit).toMatchObject({ kind: 'signaled', signal: 9 });
    expect(launched.length + rejected.length).toBe(70);
    expect(rejected.length).toBeGreaterThanOrEqual(10);
    for (const error of rejected) expect(error).toMatchObject({ name: 'ProcLauncherError', code: 'ERR_DISPOSED' });
    expect(launcher.size).toBe(0);
  });

  it('1,000 concurrent terminates', async () => {
    const launcher = new NativeProcLauncher();
    const results = await Promise.all(Array.from({ length: 100 }, (_, i) => launcher.launch(`t-${i}`, { command: { program: fixture('forever') } })));
    const terminates = [];
    for (let round = 0; round < 10; round++) {
      for (let i = 0; i < 100; i++) terminates.push(launcher.terminate(`t-${i}`, 10_000 - round));
    }
    await Promise.all(terminates);
    for (const result of results) expect(await result.exit).toMatchObject({ kind: 'signaled', signal: 15 });
    expect(launcher.size).toBe(0);
  });

  // Forces the kernel to hand a dead proc's pid to a new, unrelated process, then
  // signals the dead proc's id every way we can: the stranger must not be touched.
  it('never signals a recycled pid', async (ctx) => {
    let canSteer = true;
    try {
      readFileSync('/proc/sys/kernel/ns_last_pid', 'utf8');
      writeFileSync('/proc/sys/kernel/ns_last_pid', readFileSync('/proc/sys/kernel/ns_last_pid', 'utf8'));
    } catch {
      canSteer = false;
    }
    if (!canSteer) {
      if (process.env['CI'] === 'true') throw new Error('CI runs as root: /proc/sys/kernel/ns_last_pid must be writable');
      console.warn('skipping pid-recycling test: /proc/sys/kernel/ns_last_pid is not writable (needs root)');
      return ctx.skip();
    }
    const launcher = new NativeProcLauncher();
    // The stranger is started by a second launcher: its clone() follows the
    // ns_last_pid write within microseconds, so other forks on a busy machine
    // rarely take the pid first. Keep trying for a while if they do.
    const strangers = new NativeProcLauncher();
    const deadline = Date.now() + 20_000;
    for (let attempt = 0; Date.now() < deadline; attempt++) {
      const dead = await launcher.launch('recycled', { command: { program: '/bin/true' } });
      const pid = dead.pid!;
      await dead.exit;
      writeFileSync('/proc/sys/kernel/ns_last_pid', String(pid - 1));
      const stranger = await strangers.launch(`stranger-${attempt}`, { command: { program: fixture('forever') } });
      try {
        if (stranger.pid !== pid) continue; // another process took the pid first: try again
        await launcher.kill('recycled');
        await launcher.terminate('recycled', 0);
        await new Promise((resolve) => setTimeout(resolve, 50));
        expect(isRunning(pid)).toBe(true);
        return;
      } finally {
        await strangers.kill(`stranger-${attempt}`);
        const end = await stranger.exit;
        // Killed by us, not by a stray signal of the first launcher.
        expect(end).toMatchObject({ kind: 'signaled', signal: 9 });
      }
    }
    throw new ProcLauncherError('other', 'could not make the kernel recycle a pid within 20 s');
  });
});
