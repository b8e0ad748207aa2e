import { afterAll, describe, expect, it } from 'vitest';


import { fixture } from '../helpers/fixtures.js';
import { limitOf } from '../contract/harness-contract.js';
import { LineCollector, quietManager, expectNoLeftovers } from '../helpers/manager.js';

const output = new LineCollector();
const manager = quietManager({ logSink: output.sink, readyTimeoutMs: 60_000 });
afterAll(async () => {
  await manager.dispose();
  await expectNoLeftovers();
});

describe('ProcManager passes the harness options through (native launcher)', () => {
  it("stdin 'pipe': the handle exposes the proc's stdin", async () => {
    const h = await manager.spawn('cat', { program: '/bin/cat' }, { stdin: 'pipe', readyTimeoutMs: null });
    expect(h.stdin).not.toBeNull();
    h.stdin!.end('through the handle\n');
    await output.waitFor('cat', 'through the handle');
    expect(await h.wait()).toEqual({ state: 'stopped', exitCode: 0, stderrTail: [] });
    const plain = await manager.spawn('no-stdin', { program: '/bin/true' }, { readyTimeoutMs: null });
    expect(plain.stdin).toBeNull();
    await plain.wait();
  });

  it('deadlineMs ends the proc; its exit result says timedOut', async () => {
    const h = await manager.spawn('deadline', { program: fixture('forever') }, { deadlineMs: 100, readyTimeoutMs: null });
    expect(await h.wait()).toMatchObject({ state: 'killed', signal: 15 });
    expect(h.exitResult).toMatchObject({ kind: 'signaled', signal: 15, timedOut: true });
  });

  it('signal: an abort ends the proc (aborted); an aborted signal rejects the spawn and registers nothing', async () => {
    const controller = new AbortController();
    const h = await manager.spawn('abort', { program: fixture('forever') }, { signal: controller.signal, readyTimeoutMs: null });
    controller.abort();
    expect(await h.wait()).toMatchObject({ state: 'killed', signal: 15 });
    expect(h.exitResult).toMatchObject({ aborted: true });
    await expect(manager.spawn('pre-aborted', { program: fixture('forever') }, { signal: AbortSignal.abort() })).rejects.toMatchObject({ name: 'AbortError' });
    expect(manager.status('pre-aborted')).toBeUndefined();
  });

  it('rlimits reach the proc; bad ones are refused naming rlimits.<key>', async () => {
    const h = await manager.spawn('limited', { program: fixture('forever') }, { rlimits: { nofile: [32, 64] }, readyTimeoutMs: null });
    expect(limitOf(h.pid!, 'Max open files')).toEqual(['32', '64']);
    await h.kill();
    await expect(manager.spawn('bad', { program: '/bin/true' }, { rlimits: { nofle: 3 } as never })).rejects.toThrow(/did you mean "nofile"/);
    expect(manager.status('bad')).toBeUndefined();
  });
});

