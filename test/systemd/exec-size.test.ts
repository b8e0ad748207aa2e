// argv/env too large for execve is refused before StartTransientUnit (E2BIG at stage exec,
// as native), at the kernel's own bound for one string, and conservatively for the total.
import { describe, expect, it } from 'vitest';

import { ProcLauncherError } from '../../src/index.js';
import { MAX_ARG_STRLEN } from '../../src/systemd/exec-size.js';
import { launcherFor, skipNote, systemd } from './harness.js';

describe.skipIf(!systemd.available)(`SystemdProcLauncher argv/env size${skipNote}`, () => {
  const launcher = launcherFor('exec-size');

  it('a string of exactly MAX_ARG_STRLEN bytes (NUL included) runs; one byte more is E2BIG before any unit', async () => {
    const fits = 'x'.repeat(MAX_ARG_STRLEN - 1);
    const ok = await launcher.launch('fits', { command: { program: '/bin/sh', args: ['-c', 'exit 5', fits] } });
    expect(await ok.exit).toMatchObject({ kind: 'exited', code: 5 });
    const envOk = await launcher.launch('env-fits', { command: { program: '/bin/true', env: { BIG: 'y'.repeat(MAX_ARG_STRLEN - 'BIG='.length - 1) } } });
    expect(await envOk.exit).toMatchObject({ kind: 'exited', code: 0 });

    const error = await launcher.launch('over', { command: { program: '/bin/true', args: [`${fits}x`] } }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ProcLauncherError);
    expect(error).toMatchObject({ kind: 'launch', code: 'E2BIG', errno: 7, syscall: 'execve', stage: 'exec' });
    await expect(launcher.launch('env-over', { command: { program: '/bin/true', env: { BIG: 'y'.repeat(MAX_ARG_STRLEN - 'BIG='.length) } } }))
      .rejects.toMatchObject({ code: 'E2BIG', stage: 'exec' });
    expect(launcher.size).toBe(0);
  });

  it('the total bound follows opts.rlimits.stack: 1.5 MB of arguments run with the default stack, not with a 4 MiB one', async () => {
    const args = Array.from({ length: 15_000 }, () => 'z'.repeat(99));
    const ok = await launcher.launch('total-fits', { command: { program: '/bin/sh', args: ['-c', 'exit 0', ...args] } });
    expect(await ok.exit).toMatchObject({ kind: 'exited', code: 0 });
    // A quarter of 4 MiB is 1 MiB: 1.5 MB is over it.
    await expect(launcher.launch('total-over', { command: { program: '/bin/sh', args: ['-c', 'exit 0', ...args] }, rlimits: { stack: 4 * 1024 * 1024 } }))
      .rejects.toMatchObject({ code: 'E2BIG', stage: 'exec', message: expect.stringContaining('stack limit') });
    expect(launcher.size).toBe(0);
  });
});
