// The manager's side of multi-host launchers: spawn's `host` reaches the launcher
// untouched, and the host the launcher reports shows on the live statuses and the
// handle. The real multi-host launcher (Slurm) is exercised in test/slurm/manager-*.
import { describe, expect, it } from 'vitest';

import { ProcManager, type LaunchOptions, type LaunchResult, type ProcExitResult, type ProcLauncher } from '../../src/index.js';
import { InMemoryLauncher } from '../helpers/fake-launchers.js';
import { quietManager } from '../helpers/manager.js';
import { fixture } from '../helpers/fixtures.js';

/** InMemoryLauncher that places procs on named hosts, round robin unless told, like a multi-host backend. */
class TwoHostLauncher implements ProcLauncher {
  readonly #inner = new InMemoryLauncher();
  readonly hostsAsked: Array<string | undefined> = [];
  #next = 0;

  async launch(procId: string, opts: LaunchOptions): Promise<LaunchResult> {
    const asked = (opts as LaunchOptions & { host?: string }).host;
    this.hostsAsked.push(asked);
    if (asked !== undefined && asked !== 'a' && asked !== 'b') throw new RangeError(`host must be one of a, b, got ${JSON.stringify(asked)}`);
    const host = asked ?? (this.#next++ % 2 === 0 ? 'a' : 'b');
    return { ...(await this.#inner.launch(procId, opts)), host } as LaunchResult;
  }

  finish(procId: string, result: ProcExitResult): void {
    this.#inner.finish(procId, result);
  }

  terminate(procId: string, timeoutMs: number): Promise<void> {
    return this.#inner.terminate(procId, timeoutMs);
  }

  kill(procId: string): Promise<void> {
    return this.#inner.kill(procId);
  }

  dispose(): Promise<void> {
    return this.#inner.dispose();
  }
}

describe('ProcManager host pass-through', () => {
  it('passes host to the launcher and shows the reported host on running, stopping and the handle', async () => {
    const launcher = new TwoHostLauncher();
    const m = new ProcManager({ launcher, forwardOutput: false });
    const placed = await m.spawn('placed', { program: 'p' }, { host: 'b' });
    const spread = [await m.spawn('s0', { program: 'p' }), await m.spawn('s1', { program: 'p' })];
    expect(launcher.hostsAsked).toEqual(['b', undefined, undefined]);
    expect(placed.host).toBe('b');
    expect(placed.status()).toMatchObject({ state: 'running', host: 'b' });
    expect(spread.map((h) => h.host)).toEqual(['a', 'b']);
    expect(m.list().map((entry) => (entry.status as { host?: string }).host)).toEqual(['b', 'a', 'b']);

    const states: unknown[] = [];
    const seen = (async () => {
      for await (const status of placed.statuses()) states.push(status);
    })();
    await placed.terminate(100);
    await seen;
    expect(states).toMatchObject([{ state: 'starting' }, { state: 'running', host: 'b' }, { state: 'stopping', host: 'b' }, { state: 'stopped' }]);
    // Terminal statuses keep their documented shape: the host stays on the handle.
    expect(placed.status()).not.toHaveProperty('host');
    expect(placed.host).toBe('b');
    await m.dispose();
  });

  it('the ready status carries the host too', async () => {
    const launcher = new TwoHostLauncher();
    const m = quietManager({ launcher });
    const h = await m.spawn('r', { program: 'p' }, { host: 'a' });
    // InMemoryLauncher has no pid: readiness cannot arrive; what matters is the shape when it does.
    expect(h.status()).toEqual({ state: 'running', pid: null, startedAt: expect.any(Date), host: 'a' });
    await m.dispose();
  });

  it('a bad host is a TypeError/RangeError naming opts.host before anything starts; the launcher judges which hosts exist', async () => {
    const launcher = new TwoHostLauncher();
    const m = new ProcManager({ launcher, forwardOutput: false });
    await expect(m.spawn('n', { program: 'p' }, { host: 7 as never })).rejects.toThrow(new TypeError('opts.host must be a string, got the number 7'));
    await expect(m.spawn('e', { program: 'p' }, { host: '' })).rejects.toThrow(new RangeError('opts.host must not be empty'));
    await expect(m.spawn('hots', { program: 'p' }, { hots: 'a' } as never)).rejects.toThrow(/Unknown option "hots".*did you mean "host"/);
    expect(launcher.hostsAsked).toEqual([]);
    await expect(m.spawn('u', { program: 'p' }, { host: 'nowhere' })).rejects.toThrow(/host must be one of a, b, got "nowhere"/);
    expect(m.status('u')).toMatchObject({ state: 'failed', reason: expect.stringContaining('nowhere') });
    await m.dispose();
  });

  it('a single-host launcher shows no host', async () => {
    const m = quietManager();
    const h = await m.spawn('local', { program: fixture('forever') });
    expect(h.host).toBeUndefined();
    expect(h.status()).not.toHaveProperty('host');
    await h.kill();
    await m.dispose();
  });
});

describe('a ready deadline for procs on other hosts needs callbackHost', () => {
  // A launcher with hosts() runs procs where the manager's Unix socket cannot be reached.
  const multiHost = (): ProcLauncher & { hosts(): Promise<string[]> } =>
    Object.assign(new TwoHostLauncher(), { hosts: async () => ['a', 'b'] });

  it("is refused up front, naming the option, rather than failing every proc at the deadline", async () => {
    expect(() => new ProcManager({ launcher: multiHost(), readyTimeoutMs: 1000 })).toThrow(
      /readyTimeoutMs needs callbackHost with a multi-host launcher/,
    );
    expect(() => new ProcManager({ launcher: 'slurm', readyTimeoutMs: 1000 })).toThrow(RangeError);
    const launcher = multiHost();
    const manager = new ProcManager({ launcher, forwardOutput: false });
    await expect(manager.spawn('p', { program: '/bin/true' }, { readyTimeoutMs: 1000 })).rejects.toThrow(
      /opts\.readyTimeoutMs needs callbackHost/,
    );
    expect(manager.list()).toEqual([]);
    await manager.dispose();
    // With callbackHost the same deadline is accepted.
    const reachable = new ProcManager({ launcher: multiHost(), readyTimeoutMs: 1000, callbackHost: '127.0.0.1', forwardOutput: false });
    await reachable.dispose();
  });
});
