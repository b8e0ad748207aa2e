import { spawn } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

import { cgroupDirOf, nestedCgroupScript, removeCgroupTree, startForeignProc, subCgroups, testCgroupRoot, type ForeignProc } from '../helpers/cgroup.js';
import { isRunning, killQuietly, waitFor } from '../helpers/proc-table.js';

const here = dirname(fileURLToPath(import.meta.url));
const entry = pathToFileURL(join(here, '..', '..', 'dist', 'index.js')).href;
const host = join(here, '..', 'fixtures', 'launcher-host.mjs');
const COUNT = 100;

interface HostPids {
  leaders: number[];
  grandchildren: number[];
  escaped: number[];
}

/** Starts a Node host that launches COUNT procs (half with setsid-escaped grandchildren). */
async function startHost(cgroup: string, thread: 'main' | 'worker', count = COUNT): Promise<{ kill: () => void; pids: HostPids }> {
  const child = spawn(process.execPath, [host, entry, cgroup, thread, String(count)], { stdio: ['ignore', 'pipe', 'inherit'] });
  const pids = await new Promise<HostPids>((resolve, reject) => {
    let text = '';
    child.stdout.on('data', (chunk: Buffer) => {
      text += chunk.toString();
      if (text.includes('\n')) resolve(JSON.parse(text.slice(0, text.indexOf('\n'))) as HostPids);
    });
    child.once('exit', (code, signal) => reject(new Error(`host exited early: ${code ?? signal}`)));
  });
  return {
    pids,
    kill: () => {
      child.kill('SIGKILL');
    },
  };
}

const roots: string[] = [];
const foreign: ForeignProc[] = [];
afterAll(async () => {
  await Promise.all(foreign.map((proc) => proc.stop()));
  roots.forEach(removeCgroupTree);
});

describe('a SIGKILLed parent', () => {
  for (const thread of ['main', 'worker'] as const) {
    it(`with cgroup + parentDeathSignal: nothing survives (launched from the ${thread} thread)`, async (ctx) => {
      const root = testCgroupRoot(`pdeath-${thread}`);
      if ('skip' in root) return ctx.skip();
      roots.push(root.path);
      const { pids, kill } = await startHost(root.path, thread);
      const all = [...pids.leaders, ...pids.grandchildren, ...pids.escaped];
      expect(all).toHaveLength(COUNT * 2);
      expect(all.every(isRunning)).toBe(true);
      const killedAt = Date.now();
      kill();
      await waitFor(() => all.every((pid) => !isRunning(pid)), 'every proc and grandchild to die', 10_000);
      // The figure for the README's Guarantees (not asserted: timing is not a test).
      console.log(`parent-death (${thread}): ${all.length} processes gone ${Date.now() - killedAt} ms after kill -9 of the parent`);
      // The watchdog also removes the launcher's cgroup tree.
      await waitFor(() => !existsSync(root.path), `cgroup ${root.path} to be removed`, 10_000);
    });
  }

  it('two processes with launchers on one ROOT (same procIds): the watchdog kills only the dead one\'s procs', async (ctx) => {
    const root = testCgroupRoot('pdeath-shared');
    if ('skip' in root) return ctx.skip();
    roots.push(root.path);
    mkdirSync(root.path);
    // Another application's sub-cgroup (named like a leaf) and a process in ROOT itself.
    const others = [await startForeignProc(`${root.path}/p1-p0`), await startForeignProc(root.path)];
    foreign.push(...others);
    // Both hosts launch p0..p9 on the same ROOT.
    const first = await startHost(root.path, 'main', 10);
    const second = await startHost(root.path, 'worker', 10);
    const pidsOf = (pids: HostPids) => [...pids.leaders, ...pids.grandchildren, ...pids.escaped];
    const [firstAll, secondAll] = [pidsOf(first.pids), pidsOf(second.pids)];
    const firstDir = dirname(cgroupDirOf(first.pids.leaders[0]!));
    const secondDir = dirname(cgroupDirOf(second.pids.leaders[0]!));
    expect(firstDir).not.toBe(secondDir);
    expect([firstDir, secondDir].map((dir) => dirname(dir))).toEqual([root.path, root.path]);
    expect([...firstAll, ...secondAll].every(isRunning)).toBe(true);

    first.kill();
    await waitFor(() => firstAll.every((pid) => !isRunning(pid)), "the first host's procs to die", 10_000);
    await waitFor(() => !existsSync(firstDir), `the first launcher's cgroup ${firstDir} to be removed`, 10_000);
    expect(secondAll.filter((pid) => !isRunning(pid))).toEqual([]);
    expect(others.every((proc) => isRunning(proc.pid))).toBe(true);

    second.kill();
    await waitFor(() => secondAll.every((pid) => !isRunning(pid)), "the second host's procs to die", 10_000);
    await waitFor(() => !existsSync(secondDir), `the second launcher's cgroup ${secondDir} to be removed`, 10_000);
    // ROOT existed before either launcher: it stays, with the other application in it.
    expect(subCgroups(root.path)).toEqual(['p1-p0']);
    expect(others.every((proc) => isRunning(proc.pid))).toBe(true);
    expect(cgroupDirOf(others[0]!.pid)).toBe(`${root.path}/p1-p0`);
    expect(cgroupDirOf(others[1]!.pid)).toBe(root.path);
  });

  it('the watchdog removes cgroups a proc made in its own leaf, deepest first, and nothing else', async (ctx) => {
    const root = testCgroupRoot('pdeath-nested');
    if ('skip' in root) return ctx.skip();
    roots.push(root.path);
    const other = await startForeignProc(`${root.path}/other-app`);
    foreign.push(other);
    const script = `
      const [entry, cgroup, text] = process.argv.slice(1);
      const { NativeProcLauncher } = await import(entry);
      const launcher = new NativeProcLauncher({ cgroup });
      const result = await launcher.launch('nested', { command: { program: '/bin/sh', args: ['-c', text] }, wantStdio: true });
      let out = '';
      result.stdio.stdout.on('data', (chunk) => {
        out += chunk;
        if (out.includes('\\n')) process.stdout.write(out);
      });
      setInterval(() => {}, 1 << 30);`;
    const child = spawn(process.execPath, ['--input-type=module', '-e', script, entry, root.path, nestedCgroupScript('wait')], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const exited = new Promise((resolve) => child.once('exit', resolve));
    try {
      const sleeper = await new Promise<number>((resolve, reject) => {
        let text = '';
        child.stdout.on('data', (chunk: Buffer) => {
          text += chunk.toString();
          if (text.includes('\n')) resolve(Number(text.slice(0, text.indexOf('\n'))));
        });
        child.once('exit', (code, signal) => reject(new Error(`host exited early: ${code ?? signal}`)));
      });
      const deeper = cgroupDirOf(sleeper);
      const own = dirname(dirname(dirname(deeper)));
      expect(dirname(own)).toBe(root.path);
      child.kill('SIGKILL');
      await waitFor(() => !isRunning(sleeper), 'the sleep in the nested cgroup to die', 10_000);
      await waitFor(() => !existsSync(own), `the launcher's cgroup ${own} to be removed`, 10_000);
      expect(subCgroups(root.path)).toEqual(['other-app']);
      expect(isRunning(other.pid)).toBe(true);
    } finally {
      child.kill('SIGKILL');
      await exited;
    }
  });

  it('without cgroup: the leaders die (PR_SET_PDEATHSIG), their descendants survive', async () => {
    const { pids, kill } = await startHost('-', 'main');
    const descendants = [...pids.grandchildren, ...pids.escaped];
    try {
      kill();
      await waitFor(() => pids.leaders.every((pid) => !isRunning(pid)), 'every leader to die', 10_000);
      // Nothing alive is left to kill the groups: this is the documented limit.
      expect(descendants.filter(isRunning)).toEqual(descendants);
    } finally {
      descendants.forEach(killQuietly);
    }
  });
});
