// ProcManager over the Slurm backend, on the test cluster's login node: the built-in
// 'slurm' launcher (made and released by the manager), an instance the test owns, host
// placement and spreading, terminateAll, readiness from another node over TCP
// (callbackHost) through proclaunch/notify, and a ready timeout that stops the remote proc.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { ProcManager, SlurmProcLauncher, type ProcHandle } from '../../src/index.js';
import { cluster, slurmCommand } from './slurm-context.js';
import { expectNothingLeft } from './slurm-helpers.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
/** The compiled client (npm test compiles before the suites run): what a remote proc imports. */
const notifyModule = join(root, 'dist', 'manager', 'notify.js');
/** The login node's address on the cluster network (test/slurm/cluster/up.sh). */
const LOGIN_ADDRESS = '10.200.0.1';
const NODES = ['node1', 'node2', 'node3'];

function jobIds(): string[] {
  return slurmCommand('squeue', ['-h', '-o', '%i']).split('\n').map((line) => line.trim()).filter((line) => line !== '').sort();
}

/** Steps of job `jobId` still listed (the batch/extern pseudo steps aside). */
function liveSteps(jobId: string): string[] {
  return slurmCommand('squeue', ['-h', '-s', '-j', jobId, '-o', '%i'])
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => /^\d+\.\d+$/.test(line));
}

/** Waits (bounded, by polling a cheap check) until `check` holds. */
async function eventually(check: () => boolean, what: string, ms = 60_000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Lines each proc printed on stdout, by proc id. */
function collectStdout(): { sink: (line: string, procId: string, stream: string) => void; lines: Map<string, string[]> } {
  const lines = new Map<string, string[]>();
  return {
    lines,
    sink: (line, procId, stream) => {
      if (stream === 'stdout') lines.set(procId, [...(lines.get(procId) ?? []), line]);
    },
  };
}

describe.skipIf(cluster === null)('ProcManager with the Slurm launcher', () => {
  let allocation = '';
  let launcher: SlurmProcLauncher;
  const jobsBefore: string[] = [];
  /** Remote pids of every proc the file started: the nodes share our pid namespace, so each must be gone at the end. */
  const remotePids: number[] = [];
  const track = (h: ProcHandle): ProcHandle => {
    if (h.pid !== null) remotePids.push(h.pid);
    return h;
  };

  beforeAll(() => {
    jobsBefore.push(...jobIds());
    const granted = execFileSync('salloc', ['--no-shell', '--no-kill', '-N3', '-J', 'manager-test'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 60_000 });
    void granted;
    const mine = jobIds().filter((id) => !jobsBefore.includes(id));
    expect(mine).toHaveLength(1);
    allocation = mine[0]!;
    launcher = new SlurmProcLauncher({ allocation, stopTimeoutMs: 5000 });
  });

  afterAll(async () => {
    await launcher?.dispose();
    if (allocation !== '') await expectNothingLeft(allocation, remotePids);
    if (allocation !== '') slurmCommand('scancel', [allocation]);
    await eventually(() => jobIds().every((id) => jobsBefore.includes(id)), 'the test allocation to be gone');
  });

  it("launcher 'slurm': the manager allocates, spreads procs over the hosts, shows each host, and releases the allocation at dispose", async () => {
    const before = jobIds();
    const out = collectStdout();
    const manager = new ProcManager({ launcher: 'slurm', launcherOptions: { nodes: 3 }, forwardOutput: false, logSink: out.sink });
    try {
      const handles: ProcHandle[] = [];
      for (const i of [0, 1, 2]) handles.push(track(await manager.spawn(`spread-${i}`, { program: '/bin/sh', args: ['-c', 'hostname'] })));
      // The manager's own allocation is a new job while it lives.
      expect(jobIds().filter((id) => !before.includes(id))).toHaveLength(1);
      const hosts = handles.map((h) => h.host);
      expect([...hosts].sort()).toEqual(NODES);
      for (const h of handles) {
        expect(await h.wait()).toMatchObject({ state: 'stopped', exitCode: 0 });
        // The host the manager reports is where the proc really ran.
        expect(out.lines.get(h.procId)).toEqual([h.host]);
      }
    } finally {
      await manager.dispose();
    }
    await eventually(() => jobIds().length === before.length && jobIds().every((id) => before.includes(id)), "the manager's allocation to be released");
  });

  it('an instance: host placement on running and stopping statuses, an unknown host refused, the launcher left to its owner', async () => {
    const out = collectStdout();
    const manager = new ProcManager({ launcher, forwardOutput: false, logSink: out.sink });
    const placed = track(await manager.spawn('placed', { program: '/bin/sh', args: ['-c', 'hostname; exec sleep 600'] }, { host: 'node2' }));
    expect(placed.host).toBe('node2');
    expect(placed.status()).toMatchObject({ state: 'running', host: 'node2' });
    expect(manager.list()).toEqual([{ procId: 'placed', status: expect.objectContaining({ state: 'running', host: 'node2' }) }]);
    await expect(manager.spawn('nowhere', { program: '/bin/true' }, { host: 'node9' })).rejects.toThrow(/node9/);
    expect(manager.status('nowhere')).toMatchObject({ state: 'failed', reason: expect.stringContaining('node9') });

    const states: Array<{ state: string; host?: string }> = [];
    const seen = (async () => {
      for await (const status of placed.statuses()) states.push(status as { state: string; host?: string });
    })();
    await eventually(() => (out.lines.get('placed') ?? []).length > 0, 'the placed proc to print its host');
    expect(out.lines.get('placed')).toEqual(['node2']);
    expect(await placed.terminate(5000)).toMatchObject({ state: 'killed', signalName: 'SIGTERM' });
    await seen;
    expect(states.map((s) => [s.state, s.host])).toEqual([
      ['starting', undefined],
      ['running', 'node2'],
      ['stopping', 'node2'],
      ['killed', undefined],
    ]);
    await manager.dispose();
    // Not the manager's to dispose: the launcher still runs procs in its allocation.
    const after = await launcher.launch('after-manager', { command: { program: '/bin/true' }, host: 'node1' });
    expect(await after.exit).toMatchObject({ kind: 'exited', code: 0 });
    expect(liveSteps(allocation)).toEqual([]);
  });

  it('terminateAll stops remote procs on every node gracefully (their TERM trap runs) and leaves no step', async () => {
    const out = collectStdout();
    const manager = new ProcManager({ launcher, forwardOutput: false, logSink: out.sink });
    const script = 'trap "echo term on $(hostname); exit 0" TERM; echo up; while :; do sleep 0.2; done';
    const handles: ProcHandle[] = [];
    for (const i of [0, 1, 2]) handles.push(track(await manager.spawn(`trap-${i}`, { program: '/bin/sh', args: ['-c', script] })));
    expect(new Set(handles.map((h) => h.host)).size).toBe(3);
    await eventually(() => handles.every((h) => (out.lines.get(h.procId) ?? []).includes('up')), 'every proc to have set its trap');
    expect(await manager.terminateAll({ timeoutMs: 10_000 })).toEqual({ attempted: 3, ok: 3, failed: 0 });
    for (const h of handles) {
      expect(h.status()).toMatchObject({ state: 'stopped', exitCode: 0 });
      expect(out.lines.get(h.procId)).toContain(`term on ${h.host}`);
    }
    await manager.dispose();
    await eventually(() => liveSteps(allocation).length === 0, 'no step left in the allocation');
  });

  it('a proc on another node gets ready over TCP through callbackHost, with proclaunch/notify', async () => {
    expect(existsSync(notifyModule)).toBe(true);
    const manager = new ProcManager({ launcher, forwardOutput: false, callbackHost: LOGIN_ADDRESS, readyTimeoutMs: 60_000 });
    try {
      // The node cannot reach the login node's abstract Unix sockets: TCP is the only way back.
      const program = `const { notifyReady } = await import(${JSON.stringify(notifyModule)});
        if (process.env.NOTIFY_SOCKET !== undefined) throw new Error('NOTIFY_SOCKET set on a remote proc');
        await notifyReady({ status: 'serving on ' + (await import('node:os')).hostname(), addr: 'tcp://' + (await import('node:os')).hostname() + ':7001' });
        setInterval(() => {}, 1000);`;
      const h = track(await manager.spawn('remote-ready', { program: process.execPath, args: ['--input-type=module', '-e', program] }, { host: 'node3' }));
      const ready = await h.ready();
      expect(ready).toMatchObject({ state: 'ready', host: 'node3', statusText: 'serving on node3', addr: 'tcp://node3:7001' });
      expect(await h.terminate(5000)).toMatchObject({ state: expect.stringMatching(/^(killed|stopped)$/) });
    } finally {
      await manager.dispose();
    }
    await eventually(() => liveSteps(allocation).length === 0, 'no step left in the allocation');
  });

  it('a ready timeout fails the remote proc and stops it: its step and its process are gone', async () => {
    const manager = new ProcManager({ launcher, forwardOutput: false, callbackHost: LOGIN_ADDRESS, terminateTimeoutMs: 5000 });
    try {
      const h = track(await manager.spawn('never-ready', { program: '/bin/sleep', args: ['600'] }, { host: 'node2', readyTimeoutMs: 2000 }));
      expect(h.host).toBe('node2');
      const pid = h.pid;
      expect(await h.wait()).toMatchObject({ state: 'failed', reason: 'not ready within 2000 ms' });
      await expect(h.ready()).rejects.toMatchObject({ state: 'failed' });
      await eventually(() => liveSteps(allocation).length === 0, 'the timed-out step to be gone');
      // The nodes share this machine's pid namespace: the remote sleep itself is gone.
      expect(pid).toEqual(expect.any(Number));
      await eventually(() => !existsSync(`/proc/${pid}`), `remote pid ${pid} to be gone`);
    } finally {
      await manager.dispose();
    }
  });
});
