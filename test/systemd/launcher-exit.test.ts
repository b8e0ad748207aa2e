import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

import { SystemdProcLauncher, type ProcExitResult } from '../../src/index.js';
import { firstLine, fixture } from '../helpers/fixtures.js';
import { isRunning, waitFor } from '../helpers/proc-table.js';
import { unitProperty } from './bus-tools.js';
import { busAddress, launcherFor, skipNote, systemd, TREE_USAGE } from './harness.js';

/** Counts how often a promise's then-callbacks fire, to prove "exactly once". */
function settleCount(promise: Promise<ProcExitResult>): { count: () => number; settled: () => boolean } {
  let count = 0;
  void promise.then(() => count++);
  return { count: () => count, settled: () => count > 0 };
}

describe.skipIf(!systemd.available)(`SystemdProcLauncher exit${skipNote}`, () => {
  const launcher = launcherFor('exit');
  const shortStop = launcherFor('exit-short', { stopTimeoutMs: 100 });

  it('reports exit code 7 exactly, with the pid systemd started', async () => {
    const result = await launcher.launch('exit-7', { command: { program: fixture('exit-n'), args: ['7'] } });
    expect(result.pid).toBeGreaterThan(1);
    expect(result.startedAt).toBeInstanceOf(Date);
    expect(result.stdio).toEqual({ kind: 'managed-by-launcher' });
    expect(await result.exit).toEqual({ kind: 'exited', code: 7, treeUsage: TREE_USAGE });
  });

  it('reports SIGSEGV as signaled, with the core flag as systemd reports it', async () => {
    const scratch = mkdtempSync(join(tmpdir(), 'proclaunch-sd-core-'));
    try {
      const result = await launcher.launch('segv', { command: { program: fixture('segfault'), cwd: scratch } });
      const exit = await result.exit;
      expect(exit).toMatchObject({ kind: 'signaled', signal: 11, signalName: 'SIGSEGV' });
      // ExecMainCode 3 (CLD_DUMPED) exactly when the kernel wrote the core into the unit's cwd.
      const dumped = readdirSync(scratch).some((name) => name.startsWith('core'));
      expect(exit.kind === 'signaled' && exit.coreDumped).toBe(dumped);
    } finally {
      rmSync(scratch, { recursive: true, force: true });
    }
  });

  it('kill gives SIGKILL and resolves exit once; kill is idempotent', async () => {
    const result = await launcher.launch('to-kill', { command: { program: fixture('forever') } });
    const settled = settleCount(result.exit);
    await launcher.kill('to-kill');
    await launcher.kill('to-kill');
    expect(await result.exit).toEqual({ kind: 'signaled', signal: 9, signalName: 'SIGKILL', coreDumped: false, treeUsage: TREE_USAGE });
    await launcher.kill('to-kill');
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(settled.count()).toBe(1);
    expect(isRunning(result.pid!)).toBe(false);
  });

  it('terminate of a well-behaved proc stops it with SIGTERM', async () => {
    const result = await launcher.launch('polite', { command: { program: fixture('forever') } });
    await launcher.terminate('polite', 10_000);
    expect(await result.exit).toEqual({ kind: 'signaled', signal: 15, signalName: 'SIGTERM', coreDumped: false, treeUsage: TREE_USAGE });
  });

  it('terminate of a SIGTERM-ignoring proc escalates to SIGKILL within timeoutMs plus a margin', async () => {
    const result = await launcher.launch('stubborn', { command: { program: fixture('ignore-term') }, wantStdio: true });
    if (result.stdio.kind !== 'captured') throw new Error('expected captured stdio');
    expect(await firstLine(result.stdio.stdout)).toBe('ready');
    result.stdio.stdout.resume();
    const started = Date.now();
    await launcher.terminate('stubborn', 400);
    await launcher.terminate('stubborn', 5_000); // a second terminate does not push the deadline back
    const exit = await result.exit;
    const elapsed = Date.now() - started;
    expect(exit).toMatchObject({ kind: 'signaled', signal: 9, signalName: 'SIGKILL' });
    expect(elapsed).toBeGreaterThanOrEqual(390);
    expect(elapsed).toBeLessThan(400 + 1_500);
  });

  it('escalates on time also when timeoutMs is longer than the unit stop timeout', async () => {
    const result = await shortStop.launch('stubborn', { command: { program: fixture('ignore-term') }, wantStdio: true });
    if (result.stdio.kind !== 'captured') throw new Error('expected captured stdio');
    expect(await firstLine(result.stdio.stdout)).toBe('ready');
    result.stdio.stdout.resume();
    const started = Date.now();
    await shortStop.terminate('stubborn', 800);
    const exit = await result.exit;
    const elapsed = Date.now() - started;
    expect(exit).toMatchObject({ kind: 'signaled', signal: 9 });
    expect(elapsed).toBeGreaterThanOrEqual(790);
    expect(elapsed).toBeLessThan(800 + 1_500);
  });

  it('terminate and kill of unknown ids resolve', async () => {
    await expect(launcher.terminate('never-launched', 100)).resolves.toBeUndefined();
    await expect(launcher.kill('never-launched')).resolves.toBeUndefined();
  });

  it('rejects a duplicate live id with EEXIST, here and from another launcher on the same unit', async () => {
    const first = await launcher.launch('dup', { command: { program: fixture('forever') } });
    await expect(launcher.launch('dup', { command: { program: '/bin/true' } })).rejects.toMatchObject({
      name: 'ProcLauncherError',
      kind: 'launch',
      code: 'EEXIST',
    });
    const other = new SystemdProcLauncher({ unitPrefix: 'proclaunch-test-exit-' });
    try {
      await expect(other.launch('dup', { command: { program: '/bin/true' } })).rejects.toMatchObject({ code: 'EEXIST' });
    } finally {
      await other.dispose();
    }
    await launcher.kill('dup');
    await first.exit;
    // Once its exit is read, the id (and its unit name) is free again.
    const second = await launcher.launch('dup', { command: { program: fixture('exit-n'), args: ['2'] } });
    expect(await second.exit).toEqual({ kind: 'exited', code: 2, treeUsage: TREE_USAGE });
  });

  it('does not mistake a unit still running after 12 s for finished', async () => {
    const result = await launcher.launch('long', { command: { program: fixture('forever') } });
    const settled = settleCount(result.exit);
    await new Promise((resolve) => setTimeout(resolve, 12_500));
    expect(settled.settled()).toBe(false);
    expect(isRunning(result.pid!)).toBe(true);
    expect(await unitProperty(busAddress(), launcher.unitNameOf('long'), 'Unit', 'ActiveState')).toBe('active');
    await launcher.kill('long');
    expect(await result.exit).toMatchObject({ kind: 'signaled', signal: 9 });
  }, 30_000);

  it('dispose kills every running unit, waits for the exits and refuses new launches', async () => {
    const own = new SystemdProcLauncher({ unitPrefix: 'proclaunch-test-exit-dispose-' });
    const results = await Promise.all([0, 1, 2].map((i) => own.launch(`d-${i}`, { command: { program: fixture('forever') } })));
    await own.dispose();
    for (const result of results) {
      expect(await result.exit).toMatchObject({ kind: 'signaled', signal: 9 });
      await waitFor(() => !isRunning(result.pid!), `pid ${result.pid} to be gone`);
    }
    await expect(own.launch('late', { command: { program: '/bin/true' } })).rejects.toMatchObject({ name: 'ProcLauncherError', code: 'ERR_DISPOSED' });
  });
});
