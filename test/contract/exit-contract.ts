// Exit: exact codes, signals with the core bit, exactly-once resolution, kill, terminate
// and dispose, the same on every backend.
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';

import { fixture } from '../helpers/fixtures.js';
import { isRunning, waitFor } from '../helpers/proc-table.js';
import { exitOf, settleCount, type ContractBackend } from './backend.js';

/** The pid a result carries: a local pid > 1, or (remote backends) null or a positive integer. */
export function expectPidShape(backend: ContractBackend, pid: number | null): void {
  if (backend.capabilities.localPids) expect(pid).toBeGreaterThan(1);
  else if (pid !== null) expect(Number.isInteger(pid) && pid > 0).toBe(true);
}

export function defineExitContract(backend: ContractBackend): void {
  const caps = backend.capabilities;
  const launcher = (): ReturnType<ContractBackend['launcher']> => backend.launcher();

  it('reports exit code 7 exactly, with the pid, the start time and the uncaptured stdio', async () => {
    const result = await launcher().launch('exit-7', { command: { program: fixture('exit-n'), args: ['7'] } });
    expectPidShape(backend, result.pid);
    expect(result.startedAt).toBeInstanceOf(Date);
    expect(result.stdio).toEqual({ kind: caps.uncapturedStdio });
    const exit = await result.exit;
    expect(exit.kind).toBe('exited');
    expect(exit).toEqual(exitOf(backend, { kind: 'exited', code: 7 }));
    if (caps.rusage) {
      expect(exit.rusage!.userMs).toBeGreaterThanOrEqual(0);
      expect(exit.rusage!.maxRssKb).toBeGreaterThan(0);
    } else {
      expect(exit.rusage).toBeUndefined();
    }
  });

  it('reports SIGSEGV as signaled, the core bit agreeing with the disk', async () => {
    const scratch = mkdtempSync(join(tmpdir(), 'proclaunch-contract-core-'));
    try {
      const result = await launcher().launch('segv', { command: { program: fixture('segfault'), cwd: scratch } });
      const exit = await result.exit;
      expect(exit).toMatchObject({ kind: 'signaled', signal: 11, signalName: 'SIGSEGV' });
      // The kernel sets the bit only if the dump was written: check it agrees with the disk.
      const dumped = readdirSync(scratch).some((name) => name.startsWith('core'));
      expect(exit.kind === 'signaled' && exit.coreDumped).toBe(dumped);
      if (caps.signalsWithCore === 'written') expect(dumped).toBe(true);
    } finally {
      rmSync(scratch, { recursive: true, force: true });
    }
  });

  it('kill gives SIGKILL and resolves exit once; kill is idempotent, before and after the exit', async () => {
    const result = await launcher().launch('to-kill', { command: { program: fixture('forever') } });
    const settled = settleCount(result.exit);
    await launcher().kill('to-kill');
    await launcher().kill('to-kill');
    expect(await result.exit).toEqual(exitOf(backend, { kind: 'signaled', signal: 9, signalName: 'SIGKILL', coreDumped: false }));
    await launcher().kill('to-kill'); // after exit: still no error
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(settled.count()).toBe(1);
    if (caps.localPids) expect(isRunning(result.pid!)).toBe(false);
  });

  it('terminate of a well-behaved proc ends it with SIGTERM', async () => {
    const result = await launcher().launch('polite', { command: { program: fixture('forever') } });
    await launcher().terminate('polite', 10_000);
    expect(await result.exit).toEqual(exitOf(backend, { kind: 'signaled', signal: 15, signalName: 'SIGTERM', coreDumped: false }));
  });

  it('an exit status of 143 is an exit, not death by SIGTERM', async () => {
    const result = await launcher().launch('exit-143', { command: { program: fixture('exit-n'), args: ['143'] } });
    expect(await result.exit).toEqual(exitOf(backend, { kind: 'exited', code: 143 }));
  });

  it(`dispose ${caps.dispose === 'kill' ? 'kills' : 'terminates'} every running proc, waits for the exits and refuses new launches`, async () => {
    const own = backend.create();
    const results = await Promise.all([0, 1, 2].map((i) => own.launch(`d-${i}`, { command: { program: fixture('forever') } })));
    await own.dispose();
    for (const result of results) {
      expect(await result.exit).toMatchObject({ kind: 'signaled', signal: caps.dispose === 'kill' ? 9 : 15 });
      if (caps.localPids && caps.pidGoneAtExit) expect(isRunning(result.pid!)).toBe(false);
      else if (caps.localPids) await waitFor(() => !isRunning(result.pid!), `pid ${result.pid} to be gone`);
    }
    await expect(own.launch('late', { command: { program: '/bin/true' } })).rejects.toMatchObject({ name: 'ProcLauncherError', code: 'ERR_DISPOSED' });
  });
}
