// SlurmProcLauncher: terminate (graceful, then KILL), kill of a whole tree, deadlines,
// unknown ids, and an allocation given by the caller (used, never cancelled).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { SlurmProcLauncher, type LaunchResult } from '../../src/index.js';
import { firstLine, fixture, readAll } from '../helpers/fixtures.js';
import { isRunning, waitFor } from '../helpers/proc-table.js';
import { cluster, slurmCommand } from './slurm-context.js';
import { expectNothingLeft, jobListed, stepsOf } from './slurm-helpers.js';

describe.skipIf(cluster === null)('SlurmProcLauncher: terminate, kill, deadlines, a given allocation', () => {
  let jobId: string;
  let launcher: SlurmProcLauncher;
  const remotePids: number[] = [];
  const launched = (r: LaunchResult): LaunchResult => {
    if (r.pid !== null) remotePids.push(r.pid);
    return r;
  };

  beforeAll(() => {
    // The caller's allocation, made outside the launcher: it must survive dispose.
    const out = slurmCommand('salloc', ['--no-shell', '--no-kill', '-N2', '--immediate=60', '--job-name=test-given']);
    void out;
    jobId = slurmCommand('squeue', ['-h', '-n', 'test-given', '-o', '%i']).trim().split('\n')[0]!;
    expect(jobId).toMatch(/^\d+$/);
    launcher = new SlurmProcLauncher({ allocation: jobId, stopTimeoutMs: 5_000 });
  });

  afterAll(async () => {
    await launcher.dispose();
    await expectNothingLeft(jobId, remotePids);
    // Given, not made: dispose leaves it running.
    expect(slurmCommand('squeue', ['-h', '-j', jobId, '-o', '%T']).trim()).toBe('RUNNING');
    slurmCommand('scancel', [jobId]);
  });

  it('terminates of one tick share one batch of scancels: every proc gets its SIGTERM', async () => {
    const ids = ['batch-0', 'batch-1', 'batch-2', 'batch-3'];
    const results = await Promise.all(ids.map(async (id) => launched(await launcher.launch(id, { command: { program: fixture('forever') } }))));
    const before = launcher.scancelCalls;
    for (const id of ids) void launcher.terminate(id, 60_000);
    const exits = await Promise.all(results.map((r) => r.exit));
    for (const exit of exits) expect(exit).toMatchObject({ kind: 'signaled', signalName: 'SIGTERM' });
    // One batch for all four: scancel --signal=STOP, =TERM, =CONT, each naming every step.
    expect(launcher.scancelCalls - before).toBe(3);
  });

  it('runs steps in the given allocation, on its nodes only', async () => {
    const hosts = await launcher.hosts();
    expect(hosts).toHaveLength(2);
    expect(await launcher.allocation()).toBe(jobId);
    const r = launched(await launcher.launch('given', { command: { program: fixture('forever') } }));
    expect(hosts).toContain(r.host);
    expect(stepsOf(jobId)).toHaveLength(1);
    await launcher.kill('given');
    await r.exit;
  });

  it('terminate is graceful: the proc\'s TERM trap runs and its exit code is kept', async () => {
    const r = launched(await launcher.launch('trap', {
      command: { program: '/bin/sh', args: ['-c', 'trap "echo trapped; exit 3" TERM; echo ready; while :; do sleep 0.1; done'] },
      wantStdio: true,
    }));
    if (r.stdio.kind !== 'captured') throw new Error('not captured');
    expect(await firstLine(r.stdio.stdout)).toBe('ready');
    const rest = readAll(r.stdio.stdout);
    await launcher.terminate('trap', 60_000);
    expect(await r.exit).toEqual({ kind: 'exited', code: 3 });
    expect(await rest).toContain('trapped');
  });

  it('terminate escalates to SIGKILL after timeoutMs for a proc that ignores SIGTERM', async () => {
    const r = launched(await launcher.launch('stubborn', { command: { program: fixture('ignore-term') }, wantStdio: true }));
    if (r.stdio.kind !== 'captured') throw new Error('not captured');
    expect(await firstLine(r.stdio.stdout)).toBe('ready');
    const asked = Date.now();
    await launcher.terminate('stubborn', 1_000);
    expect(await r.exit).toEqual({ kind: 'signaled', signal: 9, signalName: 'SIGKILL', coreDumped: false });
    // Not killed before the grace: the TERM was ignored for at least timeoutMs.
    expect(Date.now() - asked).toBeGreaterThanOrEqual(1_000);
  });

  it('kill reaches the whole tree on the node: a grandchild goes too', async () => {
    const r = launched(await launcher.launch('tree', { command: { program: fixture('spawn-grandchild') }, wantStdio: true }));
    if (r.stdio.kind !== 'captured') throw new Error('not captured');
    const grandchild = Number(await firstLine(r.stdio.stdout));
    expect(isRunning(grandchild)).toBe(true);
    remotePids.push(grandchild);
    await launcher.kill('tree');
    expect(await r.exit).toMatchObject({ kind: 'signaled', signalName: 'SIGKILL' });
    await waitFor(() => !isRunning(grandchild), `grandchild ${grandchild} gone`, 20_000);
  });

  it('terminate reaches the whole tree too (a grandchild that does not trap TERM dies of it)', async () => {
    const r = launched(await launcher.launch('tree-term', { command: { program: fixture('spawn-grandchild') }, wantStdio: true }));
    if (r.stdio.kind !== 'captured') throw new Error('not captured');
    const grandchild = Number(await firstLine(r.stdio.stdout));
    remotePids.push(grandchild);
    await launcher.terminate('tree-term', 30_000);
    expect(await r.exit).toMatchObject({ kind: 'signaled', signalName: 'SIGTERM' });
    await waitFor(() => !isRunning(grandchild), `grandchild ${grandchild} gone`, 20_000);
  });

  it('terminate and kill of unknown or finished ids are no-ops; twice is fine', async () => {
    await expect(launcher.terminate('never-launched', 1000)).resolves.toBeUndefined();
    await expect(launcher.kill('never-launched')).resolves.toBeUndefined();
    const r = launched(await launcher.launch('twice', { command: { program: fixture('forever') } }));
    await launcher.kill('twice');
    await launcher.kill('twice');
    await launcher.terminate('twice', 10);
    expect(await r.exit).toMatchObject({ kind: 'signaled', signalName: 'SIGKILL' });
    await expect(launcher.kill('twice')).resolves.toBeUndefined();
    expect(launcher.size).toBe(0);
  });

  it('deadlineMs terminates the step and marks the exit timedOut', async () => {
    const r = launched(await launcher.launch('deadline', { command: { program: fixture('forever') }, deadlineMs: 500, deadlineGraceMs: 5_000 }));
    const exit = await r.exit;
    expect(exit).toMatchObject({ kind: 'signaled', signalName: 'SIGTERM', timedOut: true });
  });

  it('an abort signal terminates the step and marks the exit aborted', async () => {
    const controller = new AbortController();
    const r = launched(await launcher.launch('abort', { command: { program: fixture('forever') }, signal: controller.signal }));
    controller.abort();
    expect(await r.exit).toMatchObject({ kind: 'signaled', signalName: 'SIGTERM', aborted: true });
  });

  it('dispose ends running steps and waits for every local srun', async () => {
    const other = new SlurmProcLauncher({ allocation: jobId, stopTimeoutMs: 2_000 });
    const rs = await Promise.all([0, 1].map((i) => other.launch(`d${i}`, { command: { program: fixture('ignore-term') } })));
    for (const r of rs) launched(r);
    await other.dispose();
    for (const r of rs) expect(await r.exit).toMatchObject({ kind: 'signaled', signalName: 'SIGKILL' });
    expect(other.size).toBe(0);
    expect(jobListed(jobId)).toBe(true);
    await expect(other.launch('late', { command: { program: fixture('forever') } })).rejects.toMatchObject({ code: 'ERR_DISPOSED' });
  });
});
