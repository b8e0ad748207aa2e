import { existsSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

import { NativeProcLauncher, ProcLauncherError } from '../../src/index.js';
import { cgroupDirOf, cgroupOf, nestedCgroupScript, removeCgroupTree, subCgroups, testCgroupRoot } from '../helpers/cgroup.js';
import { firstLine, firstLines, fixture } from '../helpers/fixtures.js';
import { isRunning, waitFor } from '../helpers/proc-table.js';

const root = testCgroupRoot('containment');
const rootPath = 'path' in root ? root.path : '';
afterAll(() => {
  if (rootPath !== '') removeCgroupTree(rootPath);
});

describe.skipIf('skip' in root)('NativeProcLauncher with a cgroup per proc', () => {
  const launcher = 'path' in root ? new NativeProcLauncher({ cgroup: root.path }) : (undefined as never);
  afterAll(async () => {
    await launcher.dispose();
    expect(existsSync(rootPath)).toBe(false);
  });

  async function escaped(procId: string, arg?: string) {
    const result = await launcher.launch(procId, {
      command: { program: fixture('spawn-escaped-grandchild'), args: arg === undefined ? [] : [arg] },
      wantStdio: true,
    });
    if (result.stdio.kind !== 'captured') throw new Error('expected captured stdio');
    const grandchild = Number(await firstLine(result.stdio.stdout));
    result.stdio.stdout.resume();
    return { result, grandchild };
  }

  it('starts each proc directly inside a cgroup of its own', async () => {
    const { result, grandchild } = await escaped('placed');
    const leaderCgroup = cgroupOf(result.pid!);
    expect(leaderCgroup).toMatch(/\/proclaunch-test-containment-\d+\/proclaunch-\d+-[0-9a-f]{16}\/p\d+-placed$/);
    expect(cgroupOf(grandchild)).toBe(leaderCgroup);
    expect(readStatSession(grandchild)).not.toBe(result.pid);
    await launcher.kill('placed');
    await result.exit;
  });

  it('kill reaches a setsid-escaped grandchild', async () => {
    const { result, grandchild } = await escaped('kill-escaped');
    await launcher.kill('kill-escaped');
    expect(await result.exit).toMatchObject({ kind: 'signaled', signal: 9 });
    await waitFor(() => !isRunning(grandchild), `escaped grandchild ${grandchild} to die`);
  });

  it('the terminate escalation reaches a setsid-escaped grandchild', async () => {
    const result = await launcher.launch('term-escaped', {
      command: { program: '/bin/sh', args: ['-c', `setsid ${fixture('ignore-term')} & exec ${fixture('ignore-term')}`] },
      wantStdio: true,
    });
    if (result.stdio.kind !== 'captured') throw new Error('expected captured stdio');
    // Both must have set their trap (each prints "ready") before SIGTERM is sent.
    await firstLines(result.stdio.stdout, 2);
    result.stdio.stdout.resume();
    const leaf = cgroupOf(result.pid!);
    await launcher.terminate('term-escaped', 200);
    expect(await result.exit).toMatchObject({ kind: 'signaled', signal: 9 });
    expect(existsSync(`/sys/fs/cgroup/unified${leaf}`) || existsSync(`/sys/fs/cgroup${leaf}`)).toBe(false);
  });

  it('kills and counts what is left in the cgroup when the leader exits, then removes the cgroup', async () => {
    const { result, grandchild } = await escaped('orphans', 'exit');
    const leaf = cgroupOf(grandchild);
    const exit = await result.exit;
    expect(exit).toMatchObject({ kind: 'exited', code: 0, orphansKilled: 1 });
    expect(isRunning(grandchild)).toBe(false);
    expect(existsSync(`/sys/fs/cgroup/unified${leaf}`) || existsSync(`/sys/fs/cgroup${leaf}`)).toBe(false);
  });

  it('kills and removes the cgroups a proc made in its own leaf, deepest first, when the leader exits', async () => {
    const result = await launcher.launch('nested-exit', { command: { program: '/bin/sh', args: ['-c', nestedCgroupScript('exit')] }, wantStdio: true });
    if (result.stdio.kind !== 'captured') throw new Error('expected captured stdio');
    const sleeper = Number(await firstLine(result.stdio.stdout));
    result.stdio.stdout.resume();
    const deeper = cgroupDirOf(sleeper);
    expect(deeper).toMatch(/\/p\d+-nested-exit\/nested\/deeper$/);
    expect(await result.exit).toMatchObject({ kind: 'exited', code: 0, orphansKilled: 1 });
    expect(isRunning(sleeper)).toBe(false);
    expect(existsSync(dirname(dirname(deeper)))).toBe(false);
  });

  it('dispose() kills and removes the cgroups a proc made in its own leaf', async () => {
    const own = `${rootPath}-nested`;
    const other = new NativeProcLauncher({ cgroup: own });
    try {
      const result = await other.launch('nested', { command: { program: '/bin/sh', args: ['-c', nestedCgroupScript('wait')] }, wantStdio: true });
      if (result.stdio.kind !== 'captured') throw new Error('expected captured stdio');
      const sleeper = Number(await firstLine(result.stdio.stdout));
      result.stdio.stdout.resume();
      expect(subCgroups(dirname(dirname(cgroupDirOf(sleeper))))).toEqual(['nested']);
      await other.dispose();
      expect(isRunning(sleeper)).toBe(false);
      // The launcher made `own`, so with its directory gone it is removed too.
      expect(existsSync(own)).toBe(false);
    } finally {
      removeCgroupTree(own);
    }
  });

  it('reports zero orphans for a proc that leaves nothing behind', async () => {
    const result = await launcher.launch('clean', { command: { program: '/bin/true' } });
    expect(await result.exit).toMatchObject({ kind: 'exited', code: 0, orphansKilled: 0 });
  });
});

describe('cgroup option errors', () => {
  it('rejects a relative path and a path outside cgroup2', () => {
    expect(() => new NativeProcLauncher({ cgroup: 'relative/path' })).toThrow(RangeError);
    const error = (() => {
      try {
        new NativeProcLauncher({ cgroup: '/tmp/not-a-cgroup' });
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(error).toBeInstanceOf(ProcLauncherError);
    expect(error).toMatchObject({ stage: 'cgroup' });
    expect((error as Error).message).toMatch(/not on a cgroup v2 mount/);
    expect(() => new NativeProcLauncher({ cgroup: 42 as unknown as string })).toThrow(TypeError);
  });
});

function readStatSession(pid: number): number {
  const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return Number(text.slice(text.lastIndexOf(')') + 2).split(' ')[3]);
}
