// The spawn server (native/spawner.cc): the proc's own peak memory whatever our heap,
// one server per environment that goes with the last launcher, and a dead server is
// replaced or reported, never a hang.
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

import { NativeProcLauncher, ProcLauncherError } from '../../src/index.js';
import { allPids, isSpawnServer, openFds, readStat, waitFor, zombieChildren } from '../helpers/proc-table.js';

const GNU_TIME = '/usr/bin/time';
// Host processes load the compiled package (npm test builds it first).
const entry = pathToFileURL(join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'dist', 'index.js')).href;
// bytes('\x01') * n touches every page (a zero-filled bytearray might not).
const TOUCH_60MB = ['-c', "b = b'\\x01' * (60 * 1024 * 1024)"];

function spawnServers(): number[] {
  return allPids().filter((pid) => readStat(pid)?.ppid === process.pid && isSpawnServer(pid));
}

function canCompareWithGnuTime(): boolean {
  if (existsSync(GNU_TIME)) return true;
  // CI installs Debian's `time`; elsewhere say why nothing is compared.
  if (process.env['CI'] === 'true') throw new Error(`${GNU_TIME} is missing (Debian package "time")`);
  console.log(`spawn-server: skipping the GNU time comparison: ${GNU_TIME} is missing (apt-get install time)`);
  return false;
}

describe('maxRssKb is the proc\'s own peak', () => {
  it('a python3 touching 60 MB reports what GNU time reports (within 10%), with 300 MB in our heap', async (ctx) => {
    if (!canCompareWithGnuTime()) return ctx.skip();
    const heap: Buffer[] = [];
    for (let i = 0; i < 30; i++) heap.push(Buffer.alloc(10 * 1024 * 1024, 1));
    const ourRssKb = process.memoryUsage().rss / 1024;
    expect(ourRssKb).toBeGreaterThan(300 * 1024);

    const launcher = new NativeProcLauncher();
    try {
      const result = await launcher.launch('touch-60mb', { command: { program: 'python3', args: TOUCH_60MB } });
      const exit = await result.exit;
      expect(exit).toMatchObject({ kind: 'exited', code: 0 });
      const reported = exit.rusage!.maxRssKb!;
      // GNU time prints %M on stderr after the program's own output (none here).
      const timed = spawnSync(GNU_TIME, ['-f', '%M', 'python3', ...TOUCH_60MB], { encoding: 'utf8' });
      expect(timed.status).toBe(0);
      const yardstick = Number(timed.stderr.trim().split('\n').at(-1));
      expect(yardstick).toBeGreaterThan(60 * 1024);
      expect(Math.abs(reported - yardstick) / yardstick).toBeLessThanOrEqual(0.1);
      // Never our own figure.
      expect(reported).toBeLessThan(ourRssKb / 2);
    } finally {
      heap.length = 0;
      await launcher.dispose();
    }
  });

  it('a small proc reports a small peak, not ours', async () => {
    const keep = Buffer.alloc(200 * 1024 * 1024, 1);
    const launcher = new NativeProcLauncher();
    const exit = await (await launcher.launch('small', { command: { program: '/bin/true' } })).exit;
    expect(keep[0]).toBe(1);
    expect(exit.rusage!.maxRssKb).toBeGreaterThan(0);
    expect(exit.rusage!.maxRssKb).toBeLessThan(20 * 1024);
    await launcher.dispose();
  });
});

describe('the spawn server', () => {
  it('is one child of ours while launchers use it, gone with the last dispose, with every fd', async () => {
    const fdsBefore = openFds().length;
    const a = new NativeProcLauncher();
    const b = new NativeProcLauncher();
    await (await a.launch('a', { command: { program: '/bin/true' } })).exit;
    await (await b.launch('b', { command: { program: '/bin/true' } })).exit;
    expect(spawnServers()).toHaveLength(1);
    const [server] = spawnServers();
    // Its own process group: a terminal's ^C to ours does not reach it.
    expect(readStat(server!)!.pgrp).toBe(server);
    await a.dispose();
    expect(spawnServers()).toEqual([server]);
    await b.dispose();
    expect(spawnServers()).toEqual([]);
    expect(zombieChildren()).toEqual([]);
    expect(openFds().length).toBe(fdsBefore);
  });

  it('its procs are our children (CLONE_PARENT), so nothing of theirs goes through it', async () => {
    const launcher = new NativeProcLauncher();
    const result = await launcher.launch('child', { command: { program: '/bin/sleep', args: ['30'] } });
    expect(readStat(result.pid!)!.ppid).toBe(process.pid);
    await launcher.kill('child');
    expect(await result.exit).toMatchObject({ kind: 'signaled', signalName: 'SIGKILL' });
    await launcher.dispose();
  });

  it('runs as SCHED_BATCH (no wake-up preemption of the loop), its procs as SCHED_OTHER like ours', async () => {
    const launcher = new NativeProcLauncher();
    // /proc/PID/sched "policy": 0 SCHED_OTHER, 3 SCHED_BATCH.
    const script = 'grep "^policy" /proc/self/sched; grep "^policy" /proc/$PPID/sched';
    const result = await launcher.launch('policy', { command: { program: '/bin/sh', args: ['-c', script] }, wantStdio: true });
    if (result.stdio.kind !== 'captured') throw new Error('stdio not captured');
    result.stdio.stderr.resume();
    let out = '';
    result.stdio.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    expect(await result.exit).toMatchObject({ kind: 'exited', code: 0 });
    await waitFor(() => out.split('\n').length === 3, 'two policy lines');
    expect(out.split('\n').slice(0, 2).map((line) => line.split(':')[1]!.trim())).toEqual(['0', '0']);
    const server = allPids().find((pid) => isSpawnServer(pid) && readStat(pid)?.ppid === process.pid);
    expect(server).toBeDefined();
    expect(readFileSync(`/proc/${server}/sched`, 'utf8')).toMatch(/^policy\s+:\s+3$/m);
    await launcher.dispose();
  });

  it('a proc without cwd starts in our cwd of the moment, not the one the server started in', async () => {
    const launcher = new NativeProcLauncher();
    await (await launcher.launch('warm', { command: { program: '/bin/true' } })).exit;
    const before = process.cwd();
    process.chdir('/tmp');
    try {
      const result = await launcher.launch('pwd', { command: { program: '/bin/pwd' }, wantStdio: true });
      if (result.stdio.kind !== 'captured') throw new Error('stdio not captured');
      result.stdio.stderr.resume();
      let out = '';
      result.stdio.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
      expect(await result.exit).toMatchObject({ kind: 'exited', code: 0 });
      await waitFor(() => out.endsWith('\n'), 'pwd output');
      expect(out).toBe('/tmp\n');
    } finally {
      process.chdir(before);
      await launcher.dispose();
    }
  });

  it('one that died while idle is replaced at the next launch', async () => {
    const launcher = new NativeProcLauncher();
    await (await launcher.launch('first', { command: { program: '/bin/true' } })).exit;
    const [server] = spawnServers();
    process.kill(server!, 'SIGKILL');
    await waitFor(() => !spawnServers().includes(server!), 'the killed server to be reaped');
    const exit = await (await launcher.launch('second', { command: { program: '/bin/sh', args: ['-c', 'exit 4'] } })).exit;
    expect(exit).toMatchObject({ kind: 'exited', code: 4 });
    expect(spawnServers()).toHaveLength(1);
    expect(spawnServers()).not.toContain(server);
    await launcher.dispose();
    expect(zombieChildren()).toEqual([]);
  });

  it('one that dies with launches queued fails them with a clear error, and the next launch works', async () => {
    const launcher = new NativeProcLauncher();
    await (await launcher.launch('first', { command: { program: '/bin/true' } })).exit;
    const [server] = spawnServers();
    // Stopped, it takes nothing off its socket: the launches below are all still queued.
    process.kill(server!, 'SIGSTOP');
    await waitFor(() => readStat(server!)?.state === 'T', 'the server to stop');
    const launches = ['q1', 'q2', 'q3'].map((id) => launcher.launch(id, { command: { program: '/bin/true' } }));
    process.kill(server!, 'SIGKILL');
    const outcomes = await Promise.allSettled(launches);
    for (const outcome of outcomes) {
      expect(outcome.status).toBe('rejected');
      const error = (outcome as PromiseRejectedResult).reason as ProcLauncherError;
      expect(error).toBeInstanceOf(ProcLauncherError);
      expect(error).toMatchObject({ kind: 'launch', stage: 'spawn-server' });
      expect(['EPIPE', 'ECONNRESET']).toContain(error.code);
    }
    expect(launcher.size).toBe(0);
    const exit = await (await launcher.launch('after', { command: { program: '/bin/sh', args: ['-c', 'exit 5'] } })).exit;
    expect(exit).toMatchObject({ kind: 'exited', code: 5 });
    await launcher.dispose();
    expect(spawnServers()).toEqual([]);
    expect(zombieChildren()).toEqual([]);
  });

  it('64 launches in flight at once each settle exactly once, in any order', async () => {
    const launcher = new NativeProcLauncher();
    const ids = Array.from({ length: 64 }, (_, i) => `f-${i}`);
    const results = await Promise.all(ids.map((id, i) => launcher.launch(id, { command: { program: '/bin/sh', args: ['-c', `exit ${i % 7}`] }, wantStdio: i % 3 === 0 })));
    const exits = await Promise.all(results.map((r) => {
      if (r.stdio.kind === 'captured') {
        r.stdio.stdout.resume();
        r.stdio.stderr.resume();
      }
      return r.exit;
    }));
    exits.forEach((exit, i) => expect(exit).toMatchObject({ kind: 'exited', code: i % 7 }));
    expect(new Set(results.map((r) => r.pid)).size).toBe(64);
    await launcher.dispose();
    expect(zombieChildren()).toEqual([]);
  });

  it('dies with a SIGKILLed parent, as do its procs; a worker that ends takes its own server along', async () => {
    // The host launches one proc from its main thread and one from a worker, prints their
    // pids, then the worker ends (its environment's server must go) and the host waits.
    const script = `
      const { Worker } = require('node:worker_threads');
      const launch = \`import(\${JSON.stringify(${JSON.stringify(entry)})}).then(async ({ NativeProcLauncher }) => {
        const l = new NativeProcLauncher();
        const r = await l.launch('s', { command: { program: '/bin/sleep', args: ['1000'] } });
        return r.pid;
      })\`;
      (async () => {
        const mainPid = await eval(launch);
        const worker = new Worker(\`const { parentPort } = require('node:worker_threads'); \${launch}.then((pid) => parentPort.postMessage(pid));\`, { eval: true });
        const workerPid = await new Promise((resolve) => worker.once('message', resolve));
        console.log(JSON.stringify({ mainPid, workerPid, servers: 'see /proc' }));
        process.stdin.once('data', async () => { await worker.terminate(); console.log('worker-ended'); });
        setInterval(() => {}, 1000);
      })();`;
    const host = spawn(process.execPath, ['-e', script], { stdio: ['pipe', 'pipe', 'inherit'] });
    try {
      let out = '';
      host.stdout!.on('data', (chunk: Buffer) => (out += chunk.toString()));
      await waitFor(() => out.includes('\n'), 'the host to launch its procs', 60_000);
      const { mainPid, workerPid } = JSON.parse(out.slice(0, out.indexOf('\n'))) as { mainPid: number; workerPid: number };
      const serversOf = (pid: number): number[] => allPids().filter((p) => readStat(p)?.ppid === pid && isSpawnServer(p));
      // One per environment, both children of the host, as are the procs (CLONE_PARENT).
      expect(serversOf(host.pid!)).toHaveLength(2);
      expect(readStat(mainPid)!.ppid).toBe(host.pid);
      expect(readStat(workerPid)!.ppid).toBe(host.pid);
      const [first, second] = serversOf(host.pid!);
      host.stdin!.write('end the worker\n');
      await waitFor(() => out.includes('worker-ended'), 'the worker to end', 60_000);
      // The worker's proc and server went with it; the main thread's are still there.
      await waitFor(() => serversOf(host.pid!).length === 1, 'the worker\'s server to go', 60_000);
      await waitFor(() => readStat(workerPid) === null || readStat(workerPid)!.state === 'Z', 'the worker\'s proc to die', 60_000);
      const [left] = serversOf(host.pid!);
      expect([first, second]).toContain(left);
      host.kill('SIGKILL');
      await once(host, 'exit');
      // Reparented and killed by PR_SET_PDEATHSIG: gone, not orphaned.
      await waitFor(() => readStat(left!) === null, 'the main server to die with the host', 60_000);
      await waitFor(() => readStat(mainPid) === null, 'the main proc to die with the host', 60_000);
    } finally {
      if (host.exitCode === null && host.signalCode === null) host.kill('SIGKILL');
    }
  });
});
