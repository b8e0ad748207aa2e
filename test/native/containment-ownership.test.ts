// A launcher with `cgroup: ROOT` kills and removes only what it created: its own
// directory in ROOT. Other launchers (same procIds), other applications' cgroups and
// processes in ROOT, and ROOT itself when it existed before, all survive.
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';

import { NativeProcLauncher, ProcLauncherError, type LaunchResult } from '../../src/index.js';
import { cgroupDirOf, removeCgroupTree, startForeignProc, subCgroups, testCgroupRoot, type ForeignProc } from '../helpers/cgroup.js';
import { firstLine, fixture } from '../helpers/fixtures.js';
import { isRunning, waitFor, zombieChildren } from '../helpers/proc-table.js';

const here = dirname(fileURLToPath(import.meta.url));
const packageRoot = join(here, '..', '..');
const base = testCgroupRoot('ownership');
const roots: string[] = [];
const foreign: ForeignProc[] = [];
afterAll(async () => {
  await Promise.all(foreign.map((proc) => proc.stop()));
  roots.forEach(removeCgroupTree);
});

/** A fresh test ROOT path (not created). */
function freshRoot(name: string): string {
  const path = `${(base as { path: string }).path}-${name}`;
  roots.push(path);
  return path;
}

/** A proc whose grandchild escapes with setsid: the leader, the escapee and its leaf. */
async function launchEscaped(launcher: NativeProcLauncher, procId: string): Promise<{ result: LaunchResult; pids: number[]; leaf: string }> {
  const result = await launcher.launch(procId, { command: { program: fixture('spawn-escaped-grandchild') }, wantStdio: true });
  if (result.stdio.kind !== 'captured') throw new Error('expected captured stdio');
  const grandchild = Number(await firstLine(result.stdio.stdout));
  result.stdio.stdout.resume();
  return { result, pids: [result.pid!, grandchild], leaf: cgroupDirOf(result.pid!) };
}

describe.skipIf('skip' in base)('a launcher on a shared cgroup root', () => {
  it('dispose() leaves another launcher (same procIds) and another application untouched', async () => {
    const root = freshRoot('shared');
    mkdirSync(root);
    // Another application: a sub-cgroup named like a leaf of ours, and a process in ROOT itself.
    const inSub = await startForeignProc(join(root, 'p1-worker'));
    const inRoot = await startForeignProc(root);
    foreign.push(inSub, inRoot);

    const a = new NativeProcLauncher({ cgroup: root });
    const b = new NativeProcLauncher({ cgroup: root });
    const aWorker = await launchEscaped(a, 'worker');
    const bWorker = await launchEscaped(b, 'worker');
    const bOther = await launchEscaped(b, 'other');
    const [aDir, bDir] = [dirname(aWorker.leaf), dirname(bWorker.leaf)];
    expect(aDir).not.toBe(bDir);
    expect(dirname(aDir)).toBe(root);
    expect(dirname(bDir)).toBe(root);
    expect(basename(aDir)).toMatch(new RegExp(`^proclaunch-${process.pid}-[0-9a-f]{16}$`));
    expect(subCgroups(root)).toEqual([basename(aDir), basename(bDir), 'p1-worker'].sort());

    await a.dispose();
    expect(await aWorker.result.exit).toMatchObject({ kind: 'signaled', signal: 9 });
    await waitFor(() => !aWorker.pids.some(isRunning), "a's worker and its setsid escapee to die");
    expect(existsSync(aDir)).toBe(false);
    // b, the foreign processes and their cgroups, and the pre-existing ROOT are intact.
    expect([...bWorker.pids, ...bOther.pids, inSub.pid, inRoot.pid].filter((pid) => !isRunning(pid))).toEqual([]);
    expect(subCgroups(root)).toEqual([basename(bDir), 'p1-worker'].sort());
    expect(cgroupDirOf(inSub.pid)).toBe(join(root, 'p1-worker'));
    expect(cgroupDirOf(inRoot.pid)).toBe(root);
    expect(cgroupDirOf(bWorker.pids[1]!)).toBe(bWorker.leaf);

    // b still works: its kill reaches its own tree only.
    await b.kill('worker');
    expect(await bWorker.result.exit).toMatchObject({ kind: 'signaled', signal: 9 });
    await waitFor(() => !bWorker.pids.some(isRunning), "b's worker tree to die");
    expect(bOther.pids.every(isRunning)).toBe(true);

    await b.dispose();
    await waitFor(() => !bOther.pids.some(isRunning), "b's other tree to die");
    expect(subCgroups(root)).toEqual(['p1-worker']);
    expect(existsSync(root)).toBe(true);
    expect(isRunning(inSub.pid) && isRunning(inRoot.pid)).toBe(true);
    expect(zombieChildren()).toEqual([]);
  });

  it('procIds that look alike get distinct leaves, in one launcher and across launchers', async () => {
    const root = freshRoot('names');
    const a = new NativeProcLauncher({ cgroup: root });
    const b = new NativeProcLauncher({ cgroup: root });
    const ids = ['x/y', 'x_y', 'x y', 'x'.repeat(300)];
    const launched = [];
    for (const launcher of [a, b]) {
      for (const id of ids) launched.push(await launcher.launch(id, { command: { program: fixture('forever') } }));
    }
    const leaves = launched.map((result) => cgroupDirOf(result.pid!));
    expect(new Set(leaves).size).toBe(ids.length * 2);
    await Promise.all([a.dispose(), b.dispose()]);
    for (const result of launched) expect(await result.exit).toMatchObject({ kind: 'signaled', signal: 9 });
    // ROOT was made by the first launcher; once both are gone nothing of ours is in it.
    expect(subCgroups(root)).toEqual([]);
  });

  it('removes a ROOT it created only while empty: another application in it keeps it', async () => {
    const root = freshRoot('created');
    const launcher = new NativeProcLauncher({ cgroup: root });
    const proc = await launchEscaped(launcher, 'w');
    // Someone else starts using the ROOT this launcher created.
    const other = await startForeignProc(join(root, 'other-app'));
    foreign.push(other);
    await launcher.dispose();
    await waitFor(() => !proc.pids.some(isRunning), 'the launched tree to die');
    expect(subCgroups(root)).toEqual(['other-app']);
    expect(isRunning(other.pid)).toBe(true);

    const alone = freshRoot('created-alone');
    const second = new NativeProcLauncher({ cgroup: alone });
    await launchEscaped(second, 'w');
    await second.dispose();
    expect(existsSync(alone)).toBe(false);
  });
});

describe.skipIf('skip' in base)('a failing constructor leaves nothing behind', () => {
  function constructError(options: ConstructorParameters<typeof NativeProcLauncher>[0]): ProcLauncherError {
    try {
      new NativeProcLauncher(options);
    } catch (error) {
      expect(error).toBeInstanceOf(ProcLauncherError);
      return error as ProcLauncherError;
    }
    throw new Error('the constructor did not throw');
  }

  it('when its own directory cannot be made in an existing ROOT', async () => {
    const root = freshRoot('full');
    const other = await startForeignProc(join(root, 'other-app'));
    foreign.push(other);
    writeFileSync(join(root, 'cgroup.max.descendants'), '1');
    const error = constructError({ cgroup: root });
    expect(error).toMatchObject({ kind: 'other', stage: 'cgroup', code: 'EAGAIN', syscall: 'mkdir' });
    expect(error.path).toMatch(new RegExp(`^${root}/proclaunch-${process.pid}-[0-9a-f]{16}$`));
    expect(subCgroups(root)).toEqual(['other-app']);
    expect(isRunning(other.pid)).toBe(true);
  });

  it('when ROOT was made but its own directory could not be: ROOT goes too', () => {
    const parent = freshRoot('full-parent');
    mkdirSync(parent);
    // Room for ROOT, none for the launcher's directory in it.
    writeFileSync(join(parent, 'cgroup.max.descendants'), '1');
    const error = constructError({ cgroup: join(parent, 'root') });
    expect(error).toMatchObject({ kind: 'other', stage: 'cgroup', code: 'EAGAIN' });
    expect(subCgroups(parent)).toEqual([]);
  });

  // PROCLAUNCH_ADDON_PATH (the existing hook for another addon build) points at a
  // directory holding the real addon but no watchdog beside it, in a child process so
  // this process's loaded addon is not involved.
  async function constructWithoutWatchdog(cgroup: string): Promise<Record<string, unknown>> {
    const dir = mkdtempSync(join(tmpdir(), 'proclaunch-no-watchdog-'));
    try {
      symlinkSync(join(packageRoot, 'build', 'Release', 'proclaunch.node'), join(dir, 'proclaunch.node'));
      const script = `
        const { NativeProcLauncher } = await import(process.argv[1]);
        let outcome = { constructed: true };
        try { await new NativeProcLauncher({ cgroup: process.argv[2] }).dispose(); }
        catch (e) { outcome = { name: e.name, kind: e.kind, code: e.code, stage: e.stage, path: e.path, message: e.message }; }
        console.log(JSON.stringify(outcome));`;
      const entry = pathToFileURL(join(packageRoot, 'dist', 'index.js')).href;
      const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script, entry, cgroup], {
        env: { ...process.env, PROCLAUNCH_ADDON_PATH: join(dir, 'proclaunch.node') },
      });
      return JSON.parse(stdout) as Record<string, unknown>;
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }

  it('when the watchdog helper is missing, for a ROOT it made and for an existing one', async () => {
    const made = freshRoot('no-watchdog-made');
    const outcome = await constructWithoutWatchdog(made);
    expect(outcome).toMatchObject({ name: 'ProcLauncherError', kind: 'other', code: 'ENOENT', stage: 'watchdog' });
    expect(outcome['message']).toMatch(/watchdog helper is missing/);
    expect(existsSync(made)).toBe(false);

    const existing = freshRoot('no-watchdog-existing');
    const other = await startForeignProc(join(existing, 'other-app'));
    foreign.push(other);
    expect(await constructWithoutWatchdog(existing)).toMatchObject({ code: 'ENOENT', stage: 'watchdog' });
    expect(subCgroups(existing)).toEqual(['other-app']);
    expect(isRunning(other.pid)).toBe(true);
  });
});
