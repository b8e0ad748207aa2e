import { afterAll, describe, expect, it } from 'vitest';

import { ProcManager } from '../../src/index.js';
import { InMemoryLauncher } from '../helpers/fake-launchers.js';
import { statesOf, expectNoLeftovers } from '../helpers/manager.js';

describe('ProcManager over a custom launcher (pid null, stdio managed by the launcher)', () => {
  it('runs the whole lifecycle and takes the tail from the launcher', async () => {
    const launcher = new InMemoryLauncher();
    const m = new ProcManager({ launcher, tailLines: 7 });
    const h = await m.spawn('virtual', { program: 'anything', args: ['x'], env: { A: '1' } }, { processName: 'v' });
    expect(h.pid).toBeNull();
    expect(h.status()).toMatchObject({ state: 'running', pid: null });
    const [launched] = launcher.launched;
    expect(launched!.procId).toBe('virtual');
    expect(launched!.opts).toMatchObject({ wantStdio: true, tailLines: 7, processName: 'v', command: { program: 'anything', args: ['x'] } });
    expect(launched!.opts.command.env).toEqual({ A: '1', NOTIFY_SOCKET: expect.stringMatching(/^@proclaunch-/) });

    expect(await h.terminate(250)).toEqual({ state: 'stopped', exitCode: 0, stderrTail: ['terminated politely'] });
    expect(launcher.calls).toEqual(['terminate virtual 250']);
    expect(await statesOf(h)).toEqual(['starting', 'running', 'stopping', 'stopped']);
    await m.dispose();
  });

  it('kill, an exit of its own and a failure map to killed, stopped and failed', async () => {
    const launcher = new InMemoryLauncher();
    const m = new ProcManager({ launcher });
    const a = await m.spawn('a', { program: 'p' });
    const b = await m.spawn('b', { program: 'p' });
    const c = await m.spawn('c', { program: 'p' });
    expect(await a.kill()).toEqual({ state: 'killed', signal: 9, signalName: 'SIGKILL', coreDumped: false, stderrTail: ['killed'] });
    launcher.finish('b', { kind: 'exited', code: 3 });
    expect(await b.wait()).toEqual({ state: 'stopped', exitCode: 3, stderrTail: [] });
    launcher.finish('c', { kind: 'failed', reason: 'node lost', stderrTail: ['last words'] });
    expect(await c.wait()).toEqual({ state: 'failed', reason: 'node lost', stderrTail: ['last words'] });
    await expect(b.ready()).rejects.toMatchObject({ state: 'stopped', exitCode: 3 });
    await m.dispose();
  });

  it('dispose stops its live procs but does not dispose a launcher it does not own', async () => {
    const launcher = new InMemoryLauncher();
    const m = new ProcManager({ launcher, terminateTimeoutMs: 1234 });
    const h = await m.spawn('live', { program: 'p' });
    await m.dispose();
    expect(h.status()).toMatchObject({ state: 'stopped' });
    expect(launcher.calls).toEqual(['terminate live 1234']);
    await expect(m.spawn('late', { program: 'p' })).rejects.toMatchObject({ code: 'ERR_DISPOSED' });
    await m.dispose(); // idempotent
  });

  it('a ready timeout over a launcher that cannot stop anything leaves the proc stopping, without an unhandled rejection', async () => {
    const inner = new InMemoryLauncher();
    const refuse = async (): Promise<void> => {
      throw new Error('cannot reach the node');
    };
    const m = new ProcManager({ launcher: { launch: (id, opts) => inner.launch(id, opts), terminate: refuse, kill: refuse, dispose: refuse }, readyTimeoutMs: 20 });
    const h = await m.spawn('stuck', { program: 'p' });
    for await (const status of h.statuses()) if (status.state === 'stopping') break;
    expect(h.status().state).toBe('stopping');
    await expect(h.kill()).rejects.toThrow('cannot reach the node');
    await m.dispose();
    expect(h.status().state).toBe('stopping');
  });

  it('a launch that is still in flight when asked to stop is stopped once it has a proc', async () => {
    const inner = new InMemoryLauncher();
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const slow = {
      launch: async (procId: string, opts: Parameters<InMemoryLauncher['launch']>[1]) => {
        await gate;
        return inner.launch(procId, opts);
      },
      terminate: (procId: string, ms: number) => inner.terminate(procId, ms),
      kill: (procId: string) => inner.kill(procId),
      dispose: () => inner.dispose(),
    };
    const m = new ProcManager({ launcher: slow });
    const spawning = m.spawn('slow', { program: 'p' });
    expect(m.status('slow')).toEqual({ state: 'starting' });
    const stopping = m.terminateAll({ timeoutMs: 50 });
    release();
    const h = await spawning;
    expect(await stopping).toEqual({ attempted: 1, ok: 1, failed: 0 });
    expect(await statesOf(h)).toEqual(['starting', 'stopping', 'stopped']);
    expect(inner.calls).toEqual(['terminate slow 50']);
    await m.dispose();
  });
});

afterAll(() => expectNoLeftovers());
