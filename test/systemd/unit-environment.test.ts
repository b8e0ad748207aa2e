import { describe, expect, it } from 'vitest';

import { SystemdProcLauncher, type LaunchOptions } from '../../src/index.js';
import { readAll } from '../helpers/fixtures.js';
import { launcherFor, skipNote, systemd, TREE_USAGE } from './harness.js';

/** Runs a shell snippet in a unit and returns its stdout. */
async function output(launcher: SystemdProcLauncher, procId: string, script: string, extra: Partial<LaunchOptions> = {}): Promise<string> {
  const { command, ...rest } = extra;
  const args = ['-c', script, ...(command?.args ?? [])];
  const result = await launcher.launch(procId, { command: { program: '/bin/sh', ...command, args }, ...rest, wantStdio: true });
  if (result.stdio.kind !== 'captured') throw new Error('expected captured stdio');
  const [text] = await Promise.all([readAll(result.stdio.stdout), readAll(result.stdio.stderr)]);
  expect(await result.exit).toEqual({ kind: 'exited', code: 0, treeUsage: TREE_USAGE });
  return text;
}

function envOf(text: string): Map<string, string> {
  return new Map(text.split('\0').filter((line) => line.length > 0).map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]));
}

// Systemd-only environment details; the shared env/argv/cwd contract is in test/contract/env-contract.ts.
describe.skipIf(!systemd.available)(`SystemdProcLauncher environment names and options${skipNote}`, () => {
  const launcher = launcherFor('env');

  it('leaves out inherited variables systemd cannot hold, and rejects such names in command.env', async () => {
    process.env['proclaunch-test.bad'] = 'x';
    try {
      const env = envOf(await output(launcher, 'env-bad', 'cat /proc/self/environ'));
      expect(env.has('proclaunch-test.bad')).toBe(false);
    } finally {
      delete process.env['proclaunch-test.bad'];
    }
    await expect(launcher.launch('env-bad-2', { command: { program: '/bin/true', env: { 'A-B': '1' } } })).rejects.toThrow(RangeError);
  });

  it('validates its own options, naming the misspelled one', () => {
    expect(() => new SystemdProcLauncher({ unitprefix: 'x-' } as never)).toThrow(/Unknown option "unitprefix".*did you mean "unitPrefix"/);
    expect(() => new SystemdProcLauncher({ bus: 'session' as never })).toThrow(TypeError);
    expect(() => new SystemdProcLauncher({ bus: { adress: 'unix:path=/x' } as never })).toThrow(/did you mean "address"/);
    expect(() => new SystemdProcLauncher({ unitPrefix: 'bad/prefix' })).toThrow(RangeError);
    expect(() => new SystemdProcLauncher({ stopTimeoutMs: -1 })).toThrow(RangeError);
    expect(() => new SystemdProcLauncher({ slice: 'not-a-slice' })).toThrow(RangeError);
  });
});
