// Proc ids: unknown ids are not an error, a live id cannot be taken twice, an id is free
// again once its exit was read, and terminate/kill are idempotent.
import { expect, it } from 'vitest';

import { fixture } from '../helpers/fixtures.js';
import { contractIt, exitOf, settleCount, type ContractBackend } from './backend.js';

export function defineIdsContract(backend: ContractBackend): void {
  const launcher = (): ReturnType<ContractBackend['launcher']> => backend.launcher();

  it('terminate and kill of unknown ids resolve', async () => {
    await expect(launcher().terminate('never-launched', 100)).resolves.toBeUndefined();
    await expect(launcher().kill('never-launched')).resolves.toBeUndefined();
  });

  it('rejects a duplicate live id with EEXIST and leaves the live proc alone', async () => {
    const first = await launcher().launch('dup', { command: { program: fixture('forever') } });
    const before = backend.size();
    await expect(launcher().launch('dup', { command: { program: '/bin/true' } })).rejects.toMatchObject({
      name: 'ProcLauncherError',
      kind: 'launch',
      code: 'EEXIST',
    });
    expect(backend.size()).toBe(before);
    const settled = settleCount(first.exit);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(settled.settled()).toBe(false);
    await launcher().kill('dup');
    expect(await first.exit).toMatchObject({ kind: 'signaled', signal: 9 });
    // Once its exit is read, the id is free again.
    const second = await launcher().launch('dup', { command: { program: fixture('exit-n'), args: ['2'] } });
    expect(await second.exit).toEqual(exitOf(backend, { kind: 'exited', code: 2 }));
  });

  it('a proc id is reusable once its exit is observed', async () => {
    const first = await launcher().launch('reuse', { command: { program: '/bin/true' } });
    await first.exit;
    const second = await launcher().launch('reuse', { command: { program: fixture('exit-n'), args: ['2'] } });
    expect(await second.exit).toMatchObject({ kind: 'exited', code: 2 });
  });

  it('terminate and kill after the exit, and terminate twice, resolve and change nothing', async () => {
    const result = await launcher().launch('twice', { command: { program: fixture('forever') } });
    await launcher().terminate('twice', 10_000);
    await launcher().terminate('twice', 10_000);
    const exit = await result.exit;
    expect(exit).toMatchObject({ kind: 'signaled', signal: 15 });
    await expect(launcher().terminate('twice', 10)).resolves.toBeUndefined();
    await expect(launcher().kill('twice')).resolves.toBeUndefined();
    expect(await result.exit).toBe(exit);
    expect(backend.size()).toBe(0);
  });

  contractIt(backend, 'terminate-while-launching')('terminate right after launch, before the launch resolved, reaches the proc', async () => {
    const launching = launcher().launch('early-terminate', { command: { program: fixture('forever') } });
    await launcher().terminate('early-terminate', 5000);
    const settled = await launching.then(
      // Bounded, so a terminate that was lost fails here instead of holding the file.
      (result) => Promise.race([result.exit, new Promise<'still running'>((resolve) => setTimeout(() => resolve('still running'), 30_000))]),
      (error: unknown) => error,
    );
    try {
      expect(settled).toMatchObject({ kind: 'signaled', signalName: 'SIGTERM' });
    } finally {
      await launcher().kill('early-terminate');
    }
  });
}
