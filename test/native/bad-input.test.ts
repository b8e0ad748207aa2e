// The bad-input table: every case asserts the exact error class and code, and that
// the procs already running are untouched by it.
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { NativeProcLauncher, ProcLauncherError, type LaunchResult } from '../../src/index.js';
import { fixture } from '../helpers/fixtures.js';
import { isRunning, openFds, zombieChildren } from '../helpers/proc-table.js';

const launcher = new NativeProcLauncher();
const scratch = mkdtempSync(join(tmpdir(), 'proclaunch-bad-input-'));
const plainFile = join(scratch, 'plain-file');
writeFileSync(plainFile, '#!/bin/sh\nexit 0\n');
chmodSync(plainFile, 0o644);
const garbageExecutable = join(scratch, 'garbage');
writeFileSync(garbageExecutable, Buffer.from([0x7f, 0x45, 0x4c, 0x46, 0, 1, 2, 3, 4, 5]));
chmodSync(garbageExecutable, 0o755);
const huge = 'h'.repeat(200 * 1024);

type ErrorClass = typeof TypeError | typeof RangeError | typeof ProcLauncherError;
interface Case {
  name: string;
  run: () => unknown;
  error: ErrorClass;
  code?: string;
}

const T = '/bin/true';
const launch = (procId: unknown, opts: unknown) => () => launcher.launch(procId as string, opts as never);
const cases: Case[] = [
  { name: 'procId is a number', run: launch(1, { command: { program: T } }), error: TypeError },
  { name: 'procId is empty', run: launch('', { command: { program: T } }), error: RangeError },
  { name: 'procId has a NUL byte', run: launch('a\0b', { command: { program: T } }), error: ProcLauncherError, code: 'EINVAL' },
  { name: 'opts is null', run: launch('x', null), error: TypeError },
  { name: 'opts is an array', run: launch('x', []), error: TypeError },
  { name: 'command is missing', run: launch('x', {}), error: TypeError },
  { name: 'program is a number', run: launch('x', { command: { program: 7 } }), error: TypeError },
  { name: 'program is empty', run: launch('x', { command: { program: '' } }), error: RangeError },
  { name: 'program has a NUL byte', run: launch('x', { command: { program: '/bin/\0true' } }), error: ProcLauncherError, code: 'EINVAL' },
  { name: 'args is a string', run: launch('x', { command: { program: T, args: '-v' } }), error: TypeError },
  { name: 'an arg is a number', run: launch('x', { command: { program: T, args: ['ok', 3] } }), error: TypeError },
  { name: 'an arg has a NUL byte', run: launch('x', { command: { program: T, args: ['\0'] } }), error: ProcLauncherError, code: 'EINVAL' },
  { name: 'env is an array', run: launch('x', { command: { program: T, env: ['A=B'] } }), error: TypeError },
  { name: 'an env value is a number', run: launch('x', { command: { program: T, env: { A: 1 } } }), error: TypeError },
  { name: 'an env key has "="', run: launch('x', { command: { program: T, env: { 'A=B': 'c' } } }), error: RangeError },
  { name: 'an env value has a NUL byte', run: launch('x', { command: { program: T, env: { A: 'b\0' } } }), error: ProcLauncherError, code: 'EINVAL' },
  { name: 'cwd is empty', run: launch('x', { command: { program: T, cwd: '' } }), error: RangeError },
  { name: 'cwd does not exist', run: launch('x', { command: { program: T, cwd: join(scratch, 'nope') } }), error: ProcLauncherError, code: 'ENOENT' },
  { name: 'cwd is a file', run: launch('x', { command: { program: T, cwd: plainFile } }), error: ProcLauncherError, code: 'ENOTDIR' },
  { name: 'program does not exist', run: launch('x', { command: { program: join(scratch, 'missing') } }), error: ProcLauncherError, code: 'ENOENT' },
  { name: 'program is not in PATH', run: launch('x', { command: { program: 'proclaunch-no-such-tool' } }), error: ProcLauncherError, code: 'ENOENT' },
  { name: 'program is not executable', run: launch('x', { command: { program: plainFile } }), error: ProcLauncherError, code: 'EACCES' },
  { name: 'program is a directory', run: launch('x', { command: { program: scratch } }), error: ProcLauncherError, code: 'EACCES' },
  { name: 'program is not a valid executable', run: launch('x', { command: { program: garbageExecutable } }), error: ProcLauncherError, code: 'ENOEXEC' },
  { name: 'one huge argument', run: launch('x', { command: { program: T, args: [huge] } }), error: ProcLauncherError, code: 'E2BIG' },
  { name: 'one huge env value', run: launch('x', { command: { program: T, env: { BIG: huge } } }), error: ProcLauncherError, code: 'E2BIG' },
  { name: 'a misspelled option', run: launch('x', { command: { program: T }, tailLine: 3 }), error: TypeError },
  { name: 'a misspelled command option', run: launch('x', { command: { programm: T } }), error: TypeError },
  { name: 'tailLines is negative', run: launch('x', { command: { program: T }, tailLines: -5 }), error: RangeError },
  { name: 'tailLines is NaN', run: launch('x', { command: { program: T }, tailLines: Number.NaN }), error: RangeError },
  { name: 'tailLines is Infinity', run: launch('x', { command: { program: T }, tailLines: Infinity }), error: RangeError },
  { name: 'wantStdio is a string', run: launch('x', { command: { program: T }, wantStdio: 'true' }), error: TypeError },
  { name: 'procBind.cpus is not a list', run: launch('x', { command: { program: T }, procBind: { cpus: '0-' } }), error: RangeError },
  { name: 'procBind.cpus is past the limit', run: launch('x', { command: { program: T }, procBind: { cpus: '5000' } }), error: RangeError },
  { name: 'procBind names a missing NUMA node', run: launch('x', { command: { program: T }, procBind: { cpunodebind: '9' } }), error: ProcLauncherError, code: 'EINVAL' },
  { name: 'terminate timeout is negative', run: () => launcher.terminate('x', -1), error: RangeError },
  { name: 'terminate timeout is NaN', run: () => launcher.terminate('x', Number.NaN), error: RangeError },
  { name: 'terminate timeout is Infinity', run: () => launcher.terminate('x', Infinity), error: RangeError },
  { name: 'terminate timeout is a string', run: () => launcher.terminate('x', '5' as never), error: TypeError },
  { name: 'terminate procId is a number', run: () => launcher.terminate(5 as never, 10), error: TypeError },
  { name: 'kill procId is undefined', run: () => launcher.kill(undefined as never), error: TypeError },
  { name: 'parentDeathSignal is not a signal', run: () => new NativeProcLauncher({ parentDeathSignal: 'SIGWHATEVER' }), error: RangeError },
  { name: 'parentDeathSignal is 0', run: () => new NativeProcLauncher({ parentDeathSignal: 0 }), error: RangeError },
  { name: 'parentDeathSignal is true', run: () => new NativeProcLauncher({ parentDeathSignal: true as never }), error: TypeError },
  { name: 'a misspelled launcher option', run: () => new NativeProcLauncher({ killGroupOnexit: true } as never), error: TypeError },
  { name: 'cgroup is relative', run: () => new NativeProcLauncher({ cgroup: 'proclaunch' }), error: RangeError },
];

let bystanders: LaunchResult[] = [];
beforeAll(async () => {
  bystanders = await Promise.all([0, 1, 2].map((i) => launcher.launch(`bystander-${i}`, { command: { program: fixture('forever') } })));
});
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe('bad input', () => {
  it(`has at least 30 cases (${cases.length})`, () => {
    expect(cases.length).toBeGreaterThanOrEqual(30);
  });

  for (const testCase of cases) {
    it(`${testCase.name}: ${testCase.error.name}${testCase.code === undefined ? '' : ` ${testCase.code}`}`, async () => {
      let caught: unknown;
      try {
        await testCase.run();
      } catch (error) {
        caught = error;
      }
      expect(caught).toBeInstanceOf(testCase.error);
      if (testCase.code !== undefined) expect(caught).toMatchObject({ code: testCase.code });
      if (caught instanceof ProcLauncherError && caught.kind === 'launch') expect(caught.stage).toBeTypeOf('string');
      for (const bystander of bystanders) expect(isRunning(bystander.pid!)).toBe(true);
    });
  }

  it('a duplicate live id, launch after dispose, terminate during launch', async () => {
    await expect(launcher.launch('bystander-0', { command: { program: T } })).rejects.toMatchObject({ name: 'ProcLauncherError', code: 'EEXIST' });

    // terminate() right after launch(), before awaiting it: the proc is already known.
    const launching = launcher.launch('early-terminate', { command: { program: fixture('forever') } });
    await launcher.terminate('early-terminate', 5000);
    expect(await (await launching).exit).toMatchObject({ kind: 'signaled', signalName: 'SIGTERM' });

    const other = new NativeProcLauncher();
    await other.dispose();
    await expect(other.launch('late', { command: { program: T } })).rejects.toMatchObject({ name: 'ProcLauncherError', code: 'ERR_DISPOSED' });
  });

  it('leaves the bystanders running, and no fd or zombie behind', async () => {
    const fdsBefore = openFds().length;
    for (const testCase of cases) await Promise.resolve().then(testCase.run).catch(() => {});
    expect(openFds().length).toBe(fdsBefore);
    expect(zombieChildren()).toEqual([]);
    for (const bystander of bystanders) expect(isRunning(bystander.pid!)).toBe(true);
    await launcher.dispose();
    for (const bystander of bystanders) expect(await bystander.exit).toMatchObject({ kind: 'signaled', signal: 9 });
  });
});
