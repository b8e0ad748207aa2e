import { describe, expect, it } from 'vitest';

import { NativeProcLauncher, ProcLauncherError } from '../../src/index.js';
import { defineHarnessContract } from '../helpers/harness-contract.js';
import { zombieChildren, liveChildren } from '../helpers/proc-table.js';

const launcher = new NativeProcLauncher();

describe('NativeProcLauncher harness options (stdin, deadline, signal, rlimits)', () => {
  defineHarnessContract({ launcher: () => launcher, size: () => launcher.size });

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
});
