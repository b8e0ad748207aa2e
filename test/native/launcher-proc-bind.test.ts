import { availableParallelism } from 'node:os';
import { describe, expect, it } from 'vitest';

import { NativeProcLauncher, ProcLauncherError } from '../../src/index.js';
import { readAll } from '../helpers/fixtures.js';

const launcher = new NativeProcLauncher();

async function statusOf(procId: string, procBind: Record<string, string>): Promise<string> {
  const result = await launcher.launch(procId, {
    command: { program: '/bin/sh', args: ['-c', 'cat /proc/self/status; head -1 /proc/self/numa_maps'] },
    wantStdio: true,
    procBind,
  });
  if (result.stdio.kind !== 'captured') throw new Error('expected captured stdio');
  const text = await readAll(result.stdio.stdout);
  expect(await result.exit).toMatchObject({ kind: 'exited', code: 0 });
  return text;
}

describe('NativeProcLauncher procBind', () => {
  it('sets CPU affinity directly from cpus and physcpubind', async () => {
    const last = availableParallelism() - 1;
    expect(await statusOf('cpus', { cpus: `${last}` })).toMatch(new RegExp(`Cpus_allowed_list:\\s+${last}\\n`));
    expect(await statusOf('phys', { physcpubind: '0' })).toMatch(/Cpus_allowed_list:\s+0\n/);
  });

  it('maps cpunodebind to the node\'s CPUs and membind to MPOL_BIND', async () => {
    const text = await statusOf('numa', { cpunodebind: '0', membind: '0' });
    expect(text).toMatch(/Cpus_allowed_list:\s+\S+/);
    expect(text).toMatch(/ bind:0(\s|$)/m);
  });

  it('fails clearly where the host cannot honour the binding', async () => {
    await expect(launcher.launch('no-node', { command: { program: '/bin/true' }, procBind: { cpunodebind: '63' } })).rejects.toMatchObject({
      name: 'ProcLauncherError',
      code: 'EINVAL',
      stage: 'numa',
    });
    await expect(launcher.launch('no-mem', { command: { program: '/bin/true' }, procBind: { membind: '63' } })).rejects.toBeInstanceOf(ProcLauncherError);
    await expect(launcher.launch('no-cpu', { command: { program: '/bin/true' }, procBind: { cpus: '1000' } })).rejects.toMatchObject({
      code: 'EINVAL',
      stage: 'affinity',
      syscall: 'sched_setaffinity',
    });
  });
});
