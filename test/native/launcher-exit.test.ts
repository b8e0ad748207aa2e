import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

import { NativeProcLauncher, type ProcExitResult } from '../../src/index.js';
import { firstLine, fixture } from '../helpers/fixtures.js';
import { isRunning } from '../helpers/proc-table.js';

const launcher = new NativeProcLauncher();

/** Counts how often a promise's then-callbacks fire, to prove "exactly once". */
function settleCount(promise: Promise<ProcExitResult>): { count: () => number } {
  let count = 0;
  void promise.then(() => count++);
  return { count: () => count };
}

describe('NativeProcLauncher exit', () => {
  it('reports an exit code exactly', async () => {
    const result = await launcher.launch('exit-7', { command: { program: fixture('exit-n'), args: ['7'] } });
    expect(result.pid).toBeGreaterThan(1);
    expect(result.startedAt).toBeInstanceOf(Date);
    const exit = await result.exit;
    expect(exit.kind).toBe('exited');
    expect(exit).toMatchObject({ kind: 'exited', code: 7 });
    expect(exit.rusage).toBeDefined();
    expect(exit.rusage!.userMs).toBeGreaterThanOrEqual(0);
    expect(exit.rusage!.maxRssKb).toBeGreaterThan(0);
  });

  it('reports SIGSEGV with the core-dump bit', async () => {
    const scratch = mkdtempSync(join(tmpdir(), 'proclaunch-core-'));
    try {
      const result = await launcher.launch('segv', { command: { program: fixture('segfault'), cwd: scratch } });
      const exit = await result.exit;
      expect(exit).toMatchObject({ kind: 'signaled', signal: 11, signalName: 'SIGSEGV' });
      // The kernel sets the bit only if the dump was written: check it agrees with the disk.
      const dumped = readdirSync(scratch).some((name) => name.startsWith('core'));
      expect(exit.kind === 'signaled' && exit.coreDumped).toBe(dumped);
      expect(dumped).toBe(true);
    } finally {
      rmSync(scratch, { recursive: true, force: true });
    }
  });

  it('kill gives SIGKILL and resolves exit once', async () => {
    const result = await launcher.launch('to-kill', { command: { program: fixture('forever') } });
    const settled = settleCount(result.exit);
    await launcher.kill('to-kill');
    await launcher.kill('to-kill'); // idempotent
    expect(await result.exit).toMatchObject({ kind: 'signaled', signal: 9, signalName: 'SIGKILL', coreDumped: false });
    await launcher.kill('to-kill'); // after exit: still no error
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(settled.count()).toBe(1);
    expect(isRunning(result.pid!)).toBe(false);
  });

  it('terminate of a well-behaved child ends it with SIGTERM', async () => {
    const result = await launcher.launch('polite', { command: { program: fixture('forever') } });
    await launcher.terminate('polite', 10_000);
    expect(await result.exit).toMatchObject({ kind: 'signaled', signal: 15, signalName: 'SIGTERM' });
  });

  it('terminate escalates to SIGKILL after the timeout when SIGTERM is ignored', async () => {
    const result = await launcher.launch('stubborn', { command: { program: fixture('ignore-term') }, wantStdio: true });
    if (result.stdio.kind !== 'captured') throw new Error('expected captured stdio');
    expect(await firstLine(result.stdio.stdout)).toBe('ready');
    const started = Date.now();
    await launcher.terminate('stubborn', 300);
    await launcher.terminate('stubborn', 5_000); // a second terminate does not push the deadline back
    const exit = await result.exit;
    const elapsed = Date.now() - started;
    expect(exit).toMatchObject({ kind: 'signaled', signal: 9 });
    expect(elapsed).toBeGreaterThanOrEqual(290);
  });

  it('terminate and kill of unknown ids resolve', async () => {
    await expect(launcher.terminate('never-launched', 100)).resolves.toBeUndefined();
    await expect(launcher.kill('never-launched')).resolves.toBeUndefined();
  });

  it('a proc id is reusable once its exit is observed', async () => {
    const first = await launcher.launch('reuse', { command: { program: '/bin/true' } });
    await first.exit;
    const second = await launcher.launch('reuse', { command: { program: fixture('exit-n'), args: ['2'] } });
    expect(await second.exit).toMatchObject({ kind: 'exited', code: 2 });
  });

  it('dispose kills everything still running and refuses new launches', async () => {
    const own = new NativeProcLauncher();
    const results = await Promise.all([0, 1, 2].map((i) => own.launch(`d-${i}`, { command: { program: fixture('forever') } })));
    await own.dispose();
    for (const result of results) {
      expect(await result.exit).toMatchObject({ kind: 'signaled', signal: 9 });
      expect(isRunning(result.pid!)).toBe(false);
    }
    await expect(own.launch('late', { command: { program: '/bin/true' } })).rejects.toMatchObject({ name: 'ProcLauncherError', code: 'ERR_DISPOSED' });
  });
});
