import { hostname } from 'node:os';
import { afterEach, describe, expect, it } from 'vitest';

import { NativeProcLauncher } from '../../src/index.js';
import { readAll } from '../helpers/fixtures.js';

const launcher = new NativeProcLauncher();
afterEach(async () => {
  expect(launcher.size).toBe(0);
});

async function envOf(procId: string, opts: Record<string, unknown> = {}, env?: Record<string, string>): Promise<Map<string, string>> {
  const result = await launcher.launch(procId, {
    command: { program: '/usr/bin/env', ...(env === undefined ? {} : { env }) },
    wantStdio: true,
    ...opts,
  });
  if (result.stdio.kind !== 'captured') throw new Error('expected captured stdio');
  const text = await readAll(result.stdio.stdout);
  expect(await result.exit).toMatchObject({ kind: 'exited', code: 0 });
  return new Map(text.split('\n').filter(Boolean).map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]));
}

describe('NativeProcLauncher environment', () => {
  it('sets the contract variables and the log channel only when given', async () => {
    const withChannel = await envOf('env-1', { bootstrapPayload: 'payload-xyz', logChannel: 'unix:@log-1', processName: 'custom name' });
    expect(withChannel.get('HYPERACTOR_MESH_BOOTSTRAP_MODE')).toBe('payload-xyz');
    expect(withChannel.get('HYPERACTOR_PROCESS_NAME')).toBe('custom name');
    expect(withChannel.get('BOOTSTRAP_LOG_CHANNEL')).toBe('unix:@log-1');

    const without = await envOf('env-2');
    expect(without.has('BOOTSTRAP_LOG_CHANNEL')).toBe(false);
    expect(without.has('HYPERACTOR_MESH_BOOTSTRAP_MODE')).toBe(false);
  });

  it('defaults the process name to "<procId> @ <host>"', async () => {
    const saved = process.env['HYPERACTOR_PROCESS_NAME'];
    delete process.env['HYPERACTOR_PROCESS_NAME'];
    try {
      expect((await envOf('worker-7')).get('HYPERACTOR_PROCESS_NAME')).toBe(`worker-7 @ ${hostname()}`);
      process.env['HYPERACTOR_PROCESS_NAME'] = 'parent @ host-from-parent';
      expect((await envOf('worker-8')).get('HYPERACTOR_PROCESS_NAME')).toBe('worker-8 @ host-from-parent');
    } finally {
      if (saved === undefined) delete process.env['HYPERACTOR_PROCESS_NAME'];
      else process.env['HYPERACTOR_PROCESS_NAME'] = saved;
    }
  });

  it('overlays command.env on the parent environment', async () => {
    process.env['PROCLAUNCH_TEST_INHERITED'] = 'from-parent';
    try {
      const env = await envOf('env-3', {}, { EXTRA: 'a b $HOME', PROCLAUNCH_TEST_INHERITED: 'overridden' });
      expect(env.get('EXTRA')).toBe('a b $HOME');
      expect(env.get('PROCLAUNCH_TEST_INHERITED')).toBe('overridden');
      expect(env.get('PATH')).toBe(process.env['PATH']);
    } finally {
      delete process.env['PROCLAUNCH_TEST_INHERITED'];
    }
  });

  it('passes argv exactly, arg0 included, and runs in cwd', async () => {
    const result = await launcher.launch('argv', {
      command: { program: '/bin/sh', arg0: 'my-shell', args: ['-c', 'tr "\\0" "\\n" < /proc/$$/cmdline; echo "$0|$1|$(pwd)"', 'x y', '*'], cwd: '/usr' },
      wantStdio: true,
    });
    if (result.stdio.kind !== 'captured') throw new Error('expected captured stdio');
    const lines = (await readAll(result.stdio.stdout)).split('\n');
    expect(lines[0]).toBe('my-shell');
    expect(lines[1]).toBe('-c');
    expect(lines.slice(3)).toEqual(['x y', '*', 'x y|*|/usr', '']);
    await result.exit;
  });

  it('looks the program up in PATH, the overlay PATH first', async () => {
    const result = await launcher.launch('path', { command: { program: 'true' } });
    expect(await result.exit).toMatchObject({ kind: 'exited', code: 0 });
    await expect(launcher.launch('path-2', { command: { program: 'true', env: { PATH: '/nonexistent-dir' } } })).rejects.toMatchObject({
      code: 'ENOENT',
    });
  });
});
