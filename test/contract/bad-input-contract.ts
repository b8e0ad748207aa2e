// Bad input common to every backend: launch errors with code/errno/syscall/stage/path,
// NUL bytes, E2BIG, option types and values named in TypeError/RangeError, and the same
// validation as the native launcher, error for error.
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';

import { NativeProcLauncher, ProcLauncherError, type LaunchOptions } from '../../src/index.js';
import { readAll } from '../helpers/fixtures.js';
import { capturedOut, contractIt, type ContractBackend } from './backend.js';

export function defineBadInputContract(backend: ContractBackend): void {
  /** The stage a failed exec/chdir is reported at: where it was found out. */
  const at = (stage: 'exec' | 'chdir'): string => (backend.capabilities.execErrors === 'local' ? stage : `remote-${stage}`);
  const scratch = mkdtempSync(join(tmpdir(), 'proclaunch-contract-errors-'));
  const notExecutable = join(scratch, 'not-executable');
  writeFileSync(notExecutable, '#!/bin/sh\nexit 0\n');
  chmodSync(notExecutable, 0o644);
  afterAll(() => rmSync(scratch, { recursive: true, force: true }));

  async function launchError(procId: string, opts: LaunchOptions): Promise<ProcLauncherError> {
    const error = await backend.launcher().launch(procId, opts).then(
      () => {
        throw new Error('launch should have failed');
      },
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ProcLauncherError);
    return error as ProcLauncherError;
  }

  it('missing program: ENOENT at exec, with errno, syscall and path, by path and by name', async () => {
    const missing = join(scratch, 'no-such-program');
    expect(await launchError('e1', { command: { program: missing } })).toMatchObject({
      name: 'ProcLauncherError',
      kind: 'launch',
      code: 'ENOENT',
      errno: 2,
      syscall: 'execve',
      stage: at('exec'),
      path: missing,
    });
    const byName = await launchError('e1b', { command: { program: 'no-such-program-proclaunch' } });
    expect(byName).toMatchObject({ code: 'ENOENT', stage: at('exec'), path: 'no-such-program-proclaunch' });
  });

  it('not executable and directory: EACCES at exec', async () => {
    expect(await launchError('e2', { command: { program: notExecutable } })).toMatchObject({ code: 'EACCES', errno: 13, stage: at('exec') });
    expect(await launchError('e3', { command: { program: scratch } })).toMatchObject({ code: 'EACCES', stage: at('exec'), path: scratch });
  });

  it('bad cwd: ENOENT at chdir with the cwd as path, ENOTDIR for a file', async () => {
    const cwd = join(scratch, 'missing-dir');
    expect(await launchError('e4', { command: { program: '/bin/true', cwd } })).toMatchObject({
      code: 'ENOENT',
      syscall: 'chdir',
      stage: at('chdir'),
      path: cwd,
    });
    expect(await launchError('e4b', { command: { program: '/bin/true', cwd: notExecutable } })).toMatchObject({ code: 'ENOTDIR', stage: at('chdir') });
  });

  contractIt(backend, 'e2big')('argv or env too large: E2BIG', async () => {
    const huge = 'x'.repeat(200 * 1024); // over MAX_ARG_STRLEN (128 KiB)
    expect(await launchError('e5', { command: { program: '/bin/true', args: [huge] } })).toMatchObject({ code: 'E2BIG', stage: 'exec' });
    expect(await launchError('e6', { command: { program: '/bin/true', env: { HUGE: huge } } })).toMatchObject({ code: 'E2BIG' });
    const many = Array.from({ length: 40_000 }, () => 'y'.repeat(100)); // 4 MB in total
    expect(await launchError('e7', { command: { program: '/bin/true', args: many } })).toMatchObject({ code: 'E2BIG' });
    expect(backend.size()).toBe(0);
  });

  it('a NUL byte in any string: EINVAL at stage validate', async () => {
    const cases: LaunchOptions[] = [
      { command: { program: '/bin/tr\0ue' } },
      { command: { program: '/bin/true', args: ['a\0b'] } },
      { command: { program: '/bin/true', env: { K: 'v\0' } } },
      { command: { program: '/bin/true', env: { 'K\0': 'v' } } },
      { command: { program: '/bin/true', cwd: '/tmp\0' } },
      { command: { program: '/bin/true' }, processName: 'a\0' },
      { command: { program: '/bin/true' }, bootstrapPayload: '\0' },
      { command: { program: '/bin/true' }, logChannel: 'x\0y' },
    ];
    if (backend.capabilities.arg0) cases.push({ command: { program: '/bin/true', arg0: 'x\0' } });
    for (const [i, opts] of cases.entries()) {
      expect(await launchError(`nul-${i}`, opts)).toMatchObject({ kind: 'launch', code: 'EINVAL', stage: 'validate' });
    }
    await expect(backend.launcher().launch('id\0', { command: { program: '/bin/true' } })).rejects.toBeInstanceOf(ProcLauncherError);
  });

  it('wrong option types and values throw TypeError or RangeError naming the option', async () => {
    const bad: Array<[unknown, unknown, typeof TypeError | typeof RangeError, RegExp]> = [
      ['', { command: { program: '/bin/true' } }, RangeError, /procId/],
      [42, { command: { program: '/bin/true' } }, TypeError, /procId/],
      ['t', null, TypeError, /opts/],
      ['t', {}, TypeError, /opts\.command/],
      ['t', { command: { program: 5 } }, TypeError, /opts\.command\.program/],
      ['t', { command: { program: '' } }, RangeError, /opts\.command\.program/],
      ['t', { command: { program: '/bin/true', args: 'x' } }, TypeError, /opts\.command\.args/],
      ['t', { command: { program: '/bin/true', args: [1] } }, TypeError, /opts\.command\.args\[0\]/],
      ['t', { command: { program: '/bin/true', env: { A: 1 } } }, TypeError, /opts\.command\.env\.A/],
      ['t', { command: { program: '/bin/true', env: { 'A=B': 'x' } } }, RangeError, /opts\.command\.env/],
      ['t', { command: { program: '/bin/true', cwd: 3 } }, TypeError, /opts\.command\.cwd/],
      ['t', { command: { program: '/bin/true' }, wantStdio: 'yes' }, TypeError, /opts\.wantStdio/],
      ['t', { command: { program: '/bin/true' }, tailLines: -1 }, RangeError, /opts\.tailLines/],
      ['t', { command: { program: '/bin/true' }, tailLines: 1.5 }, RangeError, /opts\.tailLines/],
      ['t', { command: { program: '/bin/true' }, procBind: { cpus: 'zero' } }, RangeError, /opts\.procBind\.cpus/],
      ['t', { command: { program: '/bin/true' }, wantStdIo: true }, TypeError, /wantStdIo.*did you mean "wantStdio"/],
      ['t', { command: { program: '/bin/true', argv: [] } }, TypeError, /argv.*opts\.command/],
      ['t', { command: { program: '/bin/true' }, procBind: { cpu: '0' } }, TypeError, /cpu.*did you mean "cpus"/],
    ];
    for (const [procId, opts, errorClass, message] of bad) {
      const error = await backend.launcher().launch(procId as string, opts as LaunchOptions).catch((e: unknown) => e);
      expect(error, JSON.stringify(opts)).toBeInstanceOf(errorClass);
      expect((error as Error).message).toMatch(message);
    }
    await expect(backend.launcher().terminate('x', -1)).rejects.toBeInstanceOf(RangeError);
    await expect(backend.launcher().terminate('x', Number.NaN)).rejects.toBeInstanceOf(RangeError);
    await expect(backend.launcher().terminate('x', '10' as unknown as number)).rejects.toBeInstanceOf(TypeError);
    await expect(backend.launcher().kill(undefined as never)).rejects.toBeInstanceOf(TypeError);
    expect(backend.size()).toBe(0);
  });

  contractIt(backend, 'host-option')(
    backend.capabilities.hosts === 'single'
      ? "opts.host: this machine's own name is accepted, any other is a RangeError naming opts.host"
      : 'opts.host: the proc runs where asked and result.host says so; an unknown host is a RangeError naming opts.host',
    async () => {
      const own = hostname();
      if (backend.capabilities.hosts === 'single') {
        const result = await backend.launcher().launch('host-own', { command: { program: '/bin/true' }, host: own } as LaunchOptions);
        expect(await result.exit).toMatchObject({ kind: 'exited', code: 0 });
      } else {
        const first = await backend.launcher().launch('host-any', { command: { program: '/bin/true' } });
        const host = (first as { host?: string }).host;
        expect(host).toBeTypeOf('string');
        expect(await first.exit).toMatchObject({ kind: 'exited', code: 0 });
        const placed = await backend.launcher().launch('host-given', { command: { program: '/bin/sh', args: ['-c', 'hostname'] }, wantStdio: true, host } as LaunchOptions);
        expect((placed as { host?: string }).host).toBe(host);
        // Each node has a name of its own: the proc's hostname is the host it was placed on.
        expect((await readAll(capturedOut(placed))).trim()).toBe(host);
        expect(await placed.exit).toMatchObject({ kind: 'exited', code: 0 });
      }
      const elsewhere = backend.launcher().launch('host-other', { command: { program: '/bin/true' }, host: 'proclaunch-no-such-host' } as LaunchOptions);
      await expect(elsewhere).rejects.toThrow(RangeError);
      await expect(elsewhere).rejects.toThrow(/opts\.host/);
      expect(backend.size()).toBe(0);
    },
  );

  it('validates launch options exactly like the native launcher, error for error', async () => {
    const native = new NativeProcLauncher();
    const bad: unknown[] = [
      { command: { program: '/bin/true', agrs: [] } },
      { command: { program: '' } },
      { command: { program: '/bin/true', args: ['a\0b'] } },
      { command: { program: '/bin/true' }, tailLines: -1 },
      { command: { program: '/bin/true' }, procBind: { cpus: 'x' } },
      'not-an-object',
    ];
    try {
      for (const opts of bad) {
        const nativeError = await native.launch('v', opts as LaunchOptions).then(() => null, (err: unknown) => err);
        const backendError = await backend.launcher().launch('v', opts as LaunchOptions).then(() => null, (err: unknown) => err);
        expect(backendError).not.toBeNull();
        expect(backendError).toEqual(nativeError);
        expect((backendError as Error).constructor).toBe((nativeError as Error).constructor);
      }
    } finally {
      await native.dispose();
    }
  });
}
