import { describe, expect, it } from 'vitest';

import { NativeProcLauncher, ProcLauncherError, type LaunchOptions } from '../../src/index.js';
import { fixture } from '../helpers/fixtures.js';
import { openFds, zombieChildren } from '../helpers/proc-table.js';

const launcher = new NativeProcLauncher();

async function launchError(procId: string, opts: LaunchOptions): Promise<ProcLauncherError> {
  const error = await launcher.launch(procId, opts).then(
    () => {
      throw new Error('launch should have failed');
    },
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ProcLauncherError);
  return error as ProcLauncherError;
}

// The launch errors every backend shares are in test/contract/bad-input-contract.ts; these
// are the native launcher's own options and its fd/zombie accounting of failed launches.
describe('NativeProcLauncher launch errors', () => {
  it('launcher options: TypeError or RangeError naming the option', () => {
    expect(() => new NativeProcLauncher({ parentDeathSignal: 'SIGNOPE' })).toThrow(RangeError);
    expect(() => new NativeProcLauncher({ keepalive: true } as never)).toThrow(/did you mean "keepAlive"/);
  });

  it('a failed launch leaves no zombie, no fd, and running procs untouched', async () => {
    const bystander = await launcher.launch('bystander', { command: { program: fixture('forever') } });
    const fdsBefore = openFds().length;
    for (let i = 0; i < 50; i++) {
      await launchError(`fail-${i}`, { command: { program: '/definitely/not/here' }, wantStdio: true });
      await launchError(`fail-cwd-${i}`, { command: { program: '/bin/true', cwd: '/definitely/not/here' } });
    }
    expect(openFds().length).toBe(fdsBefore);
    expect(zombieChildren()).toEqual([]);
    expect(launcher.size).toBe(1);
    await launcher.kill('bystander');
    expect(await bystander.exit).toMatchObject({ kind: 'signaled', signal: 9 });
  });
});
