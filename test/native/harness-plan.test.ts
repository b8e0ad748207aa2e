import { afterAll, describe, expect, it } from 'vitest';

import { NativeProcLauncher, ProcLauncherError } from '../../src/index.js';
import { addon } from '../../src/native/addon.js';
import { normalizeLaunch } from '../../src/common/normalize-launch.js';
import { liveChildren, openFds, waitFor, zombieChildren } from '../helpers/proc-table.js';

const launcher = new NativeProcLauncher();
const fdsBefore = openFds().length;
afterAll(async () => {
  await launcher.dispose();
  // Every stdin pipe, captured stream and pidfd of the file is closed; no proc is left.
  await waitFor(() => openFds().length <= fdsBefore, `fd count back to ${fdsBefore} (now ${openFds().length})`);
  expect(zombieChildren()).toEqual([]);
  expect(liveChildren()).toEqual([]);
});

// Native-only harness details; the shared harness contract is in test/contract/harness-contract.ts.
describe('NativeProcLauncher harness plan (rlimit refused by the kernel, raw binding checks, defaults)', () => {
  it('a limit the kernel refuses is a launch error at stage rlimit, and leaves nothing behind', async () => {
    // Above fs.nr_open even root may not raise nofile: prlimit fails with EPERM.
    const error = await launcher
      .launch('rlimit-eperm', { command: { program: '/bin/true' }, rlimits: { nofile: 2 ** 40 } })
      .catch((err: unknown) => err);
    expect(error).toBeInstanceOf(ProcLauncherError);
    expect(error).toMatchObject({ kind: 'launch', code: 'EPERM', errno: 1, syscall: 'prlimit', stage: 'rlimit' });
    expect(launcher.size).toBe(0);
    expect(zombieChildren()).toEqual([]);
    expect(liveChildren()).toEqual([]);
  });

  it('the raw binding checks plan.stdin and plan.rlimits itself (native never trusts the caller)', () => {
    const plan = { paths: ['/bin/true'], argv: ['true'], env: [], inheritEnviron: false, envRemove: [], cwd: null, captureStdio: false, killGroupOnExit: true, killOnTeardown: true, parentDeathSignal: 0, cpus: null, memNodes: null, cgroup: null };
    expect(() => addon().spawn({ ...plan, stdin: 3 as never })).toThrow(/spawn: plan\.stdin must be an integer in 0\.\.2/);
    expect(() => addon().spawn({ ...plan, rlimits: [7, 10] })).toThrow(/spawn: plan\.rlimits must hold \[resource, soft, hard\] triples/);
    expect(() => addon().spawn({ ...plan, rlimits: [99, 1, 1] })).toThrow(RangeError);
    expect(() => addon().spawn({ ...plan, rlimits: [7, -2, 1] })).toThrow(RangeError);
    expect(launcher.size).toBe(0);
  });

  it('defaults: stdin null, deadlineGraceMs 5000, no deadline, no signal, no rlimits', () => {
    const launch = normalizeLaunch('d', { command: { program: '/bin/true' } });
    expect(launch.stdin).toBe('null');
    expect(launch.limits).toEqual({ graceMs: 5000 });
    expect(launch.rlimits).toEqual([]);
    const full = normalizeLaunch('d', { command: { program: '/bin/true' }, rlimits: { nofile: 10, stack: [1, Infinity] } });
    expect(full.rlimits).toEqual([
      { name: 'stack', resource: 3, soft: 1, hard: Infinity },
      { name: 'nofile', resource: 7, soft: 10, hard: 10 },
    ]);
  });
});
