// The bad-input table: every case asserts the exact error class and code, and that
// the procs already running are untouched by it.
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { NativeProcLauncher, ProcLauncherError, ProcManager, type LaunchResult } from '../../src/index.js';
import { addon, isFailure, onExit, type SpawnPlan } from '../../src/native/addon.js';
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
  message?: RegExp;
}

const T = '/bin/true';
const launch = (procId: unknown, opts: unknown) => () => launcher.launch(procId as string, opts as never);
/** What our hostile getters and Proxy traps throw: it must never come out as is. */
class Trap extends Error {}
const trap = (): never => {
  throw new Trap('trap');
};
const hugeSparse = (): string[] => Object.assign(['a'], { length: 2 ** 32 - 1 });
const revoked = (): object => {
  const { proxy, revoke } = Proxy.revocable({}, {});
  revoke();
  return proxy;
};
// 70 arguments of 100 KiB: each under MAX_ARG_STRLEN, together past what execve can carry.
const manyLargeArgs = Array.from({ length: 70 }, () => 'a'.repeat(100 * 1024));
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
  { name: 'args has a hole', run: launch('x', { command: { program: '/bin/sh', args: ['a', , 'b'] } }), error: TypeError, message: /opts\.command\.args\[1\] is a hole/ },
  { name: 'args is new Array(2)', run: launch('x', { command: { program: '/bin/sh', args: new Array(2) } }), error: TypeError, message: /opts\.command\.args\[0\] is a hole/ },
  { name: 'args is sparse with length 2**32-1', run: launch('x', { command: { program: T, args: hugeSparse() } }), error: ProcLauncherError, code: 'E2BIG' },
  { name: 'args is an array-like', run: launch('x', { command: { program: T, args: { length: 1, 0: 'a' } } }), error: TypeError, message: /opts\.command\.args must be an array/ },
  { name: 'args is a Proxy whose get trap throws', run: launch('x', { command: { program: T, args: new Proxy(['a'], { get: trap }) } }), error: TypeError, message: /opts\.command\.args/ },
  { name: 'an arg has a throwing getter', run: launch('x', { command: { program: T, args: Object.defineProperty(['a', 'b'], 1, { get: trap }) } }), error: TypeError, message: /opts\.command\.args\[1\] could not be read/ },
  { name: 'args past what execve can carry', run: launch('x', { command: { program: T, args: manyLargeArgs } }), error: ProcLauncherError, code: 'E2BIG' },
  { name: 'command has a throwing getter', run: launch('x', { command: Object.defineProperty({ program: T }, 'args', { get: trap, enumerable: true }) }), error: TypeError, message: /opts\.command\.args could not be read/ },
  { name: 'opts is a Proxy whose ownKeys trap throws', run: launch('x', new Proxy({ command: { program: T } }, { ownKeys: trap })), error: TypeError, message: /^opts could not be read/ },
  { name: 'opts is a revoked Proxy', run: launch('x', revoked()), error: TypeError, message: /^opts must be an object/ },
  { name: 'env is a Proxy whose get trap throws', run: launch('x', { command: { program: T, env: new Proxy({ A: 'b' }, { get: trap }) } }), error: TypeError, message: /opts\.command\.env\.A could not be read/ },
  { name: 'procBind has a throwing getter', run: launch('x', { command: { program: T }, procBind: Object.defineProperty({}, 'cpus', { get: trap, enumerable: true }) }), error: TypeError, message: /opts\.procBind\.cpus/ },
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
      if (testCase.message !== undefined) expect((caught as Error).message).toMatch(testCase.message);
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

describe('bad input through ProcManager.spawn', () => {
  it('rejects sparse args and hostile objects with a TypeError naming the option, and leaves nothing', async () => {
    const manager = new ProcManager({ launcher: 'native', forwardOutput: false });
    const fdsBefore = openFds().length;
    await expect(manager.spawn('holes', { program: '/bin/sh', args: ['a', , 'b'] })).rejects.toThrow(/command\.args\[1\] is a hole/);
    await expect(manager.spawn('new-array', { program: '/bin/sh', args: new Array(2) })).rejects.toThrow(/command\.args\[0\] is a hole/);
    await expect(manager.spawn('env-proxy', { program: T, env: new Proxy({}, { ownKeys: trap }) })).rejects.toThrow(/^command\.env could not be read/);
    await expect(manager.spawn('env-string', { program: T, env: 'AB' as never })).rejects.toThrow(/command\.env must be an object/);
    await expect(manager.spawn('getter', Object.defineProperty({ program: T }, 'args', { get: trap, enumerable: true }))).rejects.toThrow(/command\.args could not be read/);
    for (const id of ['holes', 'new-array', 'env-proxy', 'env-string', 'getter']) {
      const error = await manager.spawn(id, { program: T, args: new Array(1) }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(TypeError);
    }
    expect(manager.list()).toEqual([]);
    await manager.dispose();
    expect(openFds().length).toBe(fdsBefore);
  });
});

// The raw addon: misuse is a TypeError/RangeError naming the binding and field, never an
// abort (FATAL ERROR ... exit 134) or a stack write (memNodes past the mask).
describe('bad input to the raw binding', () => {
  const raw = addon();
  const plan: SpawnPlan = {
    paths: [T], argv: ['true'], env: [], inheritEnviron: false, envRemove: [], cwd: null, captureStdio: false,
    killGroupOnExit: true, killOnTeardown: true, parentDeathSignal: 0, cpus: null, memNodes: null, cgroup: null,
  };
  const call = (fn: () => unknown) => fn as () => unknown;
  const r = raw as unknown as Record<string, (...args: unknown[]) => unknown>;
  const rawCases: Array<{ name: string; run: () => unknown; error: typeof TypeError | typeof RangeError | typeof Trap; message?: RegExp }> = [
    { name: 'spawn()', run: call(() => r['spawn']!()), error: TypeError, message: /^spawn: plan must be an object/ },
    { name: 'spawn(42)', run: call(() => r['spawn']!(42)), error: TypeError, message: /^spawn: plan must be an object/ },
    { name: 'spawn with a throwing getter', run: call(() => raw.spawn(Object.defineProperty({ ...plan }, 'argv', { get: trap }))), error: Trap },
    { name: 'spawn with a Proxy plan whose get trap throws', run: call(() => raw.spawn(new Proxy(plan, { get: trap }))), error: Trap },
    { name: 'a string where argv belongs', run: call(() => raw.spawn({ ...plan, argv: 'true' as never })), error: TypeError, message: /^spawn: plan\.argv must be an array/ },
    { name: 'argv with a hole', run: call(() => raw.spawn({ ...plan, argv: ['a', , 'b'] as string[] })), error: TypeError, message: /^spawn: plan\.argv\[1\] is a hole/ },
    { name: 'argv sparse with length 2**32-1', run: call(() => raw.spawn({ ...plan, argv: hugeSparse() })), error: RangeError, message: /^spawn: plan\.argv must have at most/ },
    { name: 'env not strings', run: call(() => raw.spawn({ ...plan, env: [1 as never] })), error: TypeError, message: /^spawn: plan\.env\[0\] must be a string/ },
    { name: 'memNodes [-1]', run: call(() => raw.spawn({ ...plan, memNodes: [-1] })), error: RangeError, message: /^spawn: plan\.memNodes\[0\] must be an integer in 0\.\.1023/ },
    { name: 'memNodes [2**31]', run: call(() => raw.spawn({ ...plan, memNodes: [2 ** 31] })), error: RangeError, message: /plan\.memNodes\[0\]/ },
    { name: 'memNodes [5000]', run: call(() => raw.spawn({ ...plan, memNodes: [0, 5000] })), error: RangeError, message: /plan\.memNodes\[1\]/ },
    { name: 'memNodes [1024]', run: call(() => raw.spawn({ ...plan, memNodes: [1024] })), error: RangeError },
    { name: 'cpus [NaN]', run: call(() => raw.spawn({ ...plan, cpus: [Number.NaN] })), error: RangeError, message: /^spawn: plan\.cpus\[0\]/ },
    { name: 'cpus [1024]', run: call(() => raw.spawn({ ...plan, cpus: [1024] })), error: RangeError },
    { name: 'cpus [Infinity]', run: call(() => raw.spawn({ ...plan, cpus: [Infinity] })), error: RangeError },
    { name: 'parentDeathSignal 65', run: call(() => raw.spawn({ ...plan, parentDeathSignal: 65 })), error: RangeError, message: /plan\.parentDeathSignal/ },
    { name: 'captureStdio not a boolean', run: call(() => raw.spawn({ ...plan, captureStdio: 1 as never })), error: TypeError, message: /plan\.captureStdio must be a boolean/ },
    { name: 'cwd with a NUL byte', run: call(() => raw.spawn({ ...plan, cwd: '/\0tmp' })), error: RangeError, message: /plan\.cwd must not contain a NUL byte/ },
    { name: 'signal()', run: call(() => r['signal']!()), error: TypeError, message: /^signal: id must be a number/ },
    { name: 'signal(1, 0, true)', run: call(() => raw.signal(1, 0, true)), error: RangeError, message: /^signal: signal must be an integer in 1\.\.64/ },
    { name: 'signal(-1, 9, true)', run: call(() => raw.signal(-1, 9, true)), error: RangeError, message: /^signal: id/ },
    { name: 'signal(1, 9, "yes")', run: call(() => raw.signal(1, 9, 'yes' as never)), error: TypeError, message: /^signal: toGroup must be a boolean/ },
    { name: 'setWatchRef("1", true)', run: call(() => raw.setWatchRef('1' as never, true)), error: TypeError },
    { name: 'sendWithFds(NaN, ...)', run: call(() => raw.sendWithFds(Number.NaN, Buffer.alloc(1), [])), error: RangeError, message: /^sendWithFds: socketFd/ },
    { name: 'sendWithFds with a string for data', run: call(() => raw.sendWithFds(2 ** 30, 'x' as never, [])), error: TypeError, message: /^sendWithFds: data must be a Buffer/ },
    { name: 'sendWithFds with a negative fd in the list', run: call(() => raw.sendWithFds(2 ** 30, Buffer.alloc(1), [-1])), error: RangeError, message: /^sendWithFds: fds\[0\]/ },
    { name: 'setCallbacks()', run: call(() => r['setCallbacks']!()), error: TypeError, message: /^setCallbacks: onExit must be a function/ },
    { name: 'setCallbacks(fn, 1)', run: call(() => r['setCallbacks']!(() => {}, 1)), error: TypeError, message: /^setCallbacks: onNotify/ },
    { name: 'openNotifySocket()', run: call(() => r['openNotifySocket']!()), error: TypeError, message: /^openNotifySocket: address must be a string/ },
    { name: 'sendNotify("@x", 1)', run: call(() => r['sendNotify']!('@proclaunch-bad-input-none', 1)), error: TypeError, message: /^sendNotify: message/ },
    { name: 'closeNotifySocket(Infinity)', run: call(() => raw.closeNotifySocket(Infinity)), error: RangeError },
    { name: 'awaitBarrierSync(-1, 0)', run: call(() => raw.awaitBarrierSync(-1, 0)), error: RangeError, message: /^awaitBarrierSync: fd/ },
    { name: 'awaitBarrierSync(fd, -1)', run: call(() => raw.awaitBarrierSync(2 ** 30, -1)), error: RangeError, message: /^awaitBarrierSync: timeoutMs/ },
  ];

  for (const testCase of rawCases) {
    it(`${testCase.name}: ${testCase.error.name}`, () => {
      let caught: unknown;
      try {
        testCase.run();
      } catch (error) {
        caught = error;
      }
      expect(caught).toBeInstanceOf(testCase.error);
      if (testCase.message !== undefined) expect((caught as Error).message).toMatch(testCase.message);
    });
  }

  it('the edges of the ranges are accepted: memNodes [1023] reaches set_mempolicy, a valid plan still spawns', async () => {
    const membind = raw.spawn({ ...plan, memNodes: [1023] });
    // Node 1023 does not exist here: the child reports it, the kernel refused it (EINVAL).
    expect(isFailure(membind) ? membind.stage : 'spawned').toBe('membind');
    const spawned = raw.spawn(plan);
    if (isFailure(spawned)) throw new Error(`spawn failed: ${spawned.stage}`);
    const exited = new Promise((resolve) => onExit(spawned.id, resolve));
    expect(raw.signal(spawned.id, 64, false)).toBeTypeOf('boolean');
    expect(await exited).toMatchObject({ kind: expect.any(Number) });
    expect(zombieChildren()).toEqual([]);
  });
});
