import { mkdtempSync, rmSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

import { NativeProcLauncher, SystemdProcLauncher, type LaunchOptions } from '../../src/index.js';
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

describe.skipIf(!systemd.available)(`SystemdProcLauncher environment and argv${skipNote}`, () => {
  const launcher = launcherFor('env');

  it('passes the contract variables, command.env, NOTIFY_SOCKET and the parent env to the unit', async () => {
    process.env['PROCLAUNCH_TEST_PARENT'] = 'from-parent';
    try {
      const env = envOf(
        await output(launcher, 'env-1', 'cat /proc/self/environ', {
          command: { program: '/bin/sh', env: { FOO: 'bar baz', EMPTY: '', DOLLAR: '$HOME', NOTIFY_SOCKET: '/run/proclaunch-test/notify.sock' } },
          bootstrapPayload: 'payload-1',
          logChannel: 'unix:/tmp/log-channel',
        }),
      );
      expect(env.get('FOO')).toBe('bar baz');
      expect(env.get('EMPTY')).toBe('');
      expect(env.get('DOLLAR')).toBe('$HOME');
      expect(env.get('NOTIFY_SOCKET')).toBe('/run/proclaunch-test/notify.sock');
      expect(env.get('PROCLAUNCH_TEST_PARENT')).toBe('from-parent');
      expect(env.get('HYPERACTOR_MESH_BOOTSTRAP_MODE')).toBe('payload-1');
      expect(env.get('BOOTSTRAP_LOG_CHANNEL')).toBe('unix:/tmp/log-channel');
      const host = process.env['HYPERACTOR_PROCESS_NAME']?.split(' @ ').at(-1) ?? hostname();
      expect(env.get('HYPERACTOR_PROCESS_NAME')).toBe(`env-1 @ ${host}`);
    } finally {
      delete process.env['PROCLAUNCH_TEST_PARENT'];
    }
  });

  it('sets processName, and leaves the per-proc variables unset when not given', async () => {
    const env = envOf(await output(launcher, 'env-2', 'cat /proc/self/environ', { processName: 'custom name' }));
    expect(env.get('HYPERACTOR_PROCESS_NAME')).toBe('custom name');
    expect(env.has('HYPERACTOR_MESH_BOOTSTRAP_MODE')).toBe(false);
    expect(env.has('BOOTSTRAP_LOG_CHANNEL')).toBe(false);
  });

  it('gives argv[0] and the arguments exactly, without $ or % expansion', async () => {
    const text = await output(launcher, 'argv', 'tr "\\0" "|" < /proc/$$/cmdline', {
      command: { program: '/bin/sh', arg0: 'custom-zero', args: ['$HOME', '${FOO}', '%n', '', 'two words'] },
    });
    expect(text).toBe('custom-zero|-c|tr "\\0" "|" < /proc/$$/cmdline|$HOME|${FOO}|%n||two words|');
  });

  it('looks the program up in PATH and runs in cwd (default: ours)', async () => {
    const scratch = mkdtempSync(join(tmpdir(), 'proclaunch-sd-cwd-'));
    try {
      const result = await launcher.launch('path-lookup', { command: { program: 'pwd', cwd: scratch }, wantStdio: true });
      if (result.stdio.kind !== 'captured') throw new Error('expected captured stdio');
      expect(await readAll(result.stdio.stdout)).toBe(`${scratch}\n`);
      expect(await result.exit).toEqual({ kind: 'exited', code: 0, treeUsage: TREE_USAGE });
    } finally {
      rmSync(scratch, { recursive: true, force: true });
    }
    expect(await output(launcher, 'default-cwd', 'pwd')).toBe(`${process.cwd()}\n`);
  });

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

  it('validates launch options exactly like the native launcher', async () => {
    const native = new NativeProcLauncher();
    const bad: unknown[] = [
      { command: { program: '/bin/true', agrs: [] } },
      { command: { program: '' } },
      { command: { program: '/bin/true', args: ['a\0b'] } },
      { command: { program: '/bin/true' }, tailLines: -1 },
      { command: { program: '/bin/true' }, procBind: { cpus: 'x' } },
      'not-an-object',
    ];
    for (const opts of bad) {
      const nativeError = await native.launch('v', opts as LaunchOptions).then(() => null, (err: unknown) => err);
      const systemdError = await launcher.launch('v', opts as LaunchOptions).then(() => null, (err: unknown) => err);
      expect(systemdError).not.toBeNull();
      expect(systemdError).toEqual(nativeError);
      expect((systemdError as Error).constructor).toBe((nativeError as Error).constructor);
    }
    await native.dispose();
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
