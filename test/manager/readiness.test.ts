import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';

import { ProcNotReadyError } from '../../src/index.js';
import { fixture } from '../helpers/fixtures.js';
import { envOf, LineCollector, quietManager, statesOf, expectNoLeftovers } from '../helpers/manager.js';
import { isRunning } from '../helpers/proc-table.js';

const run = promisify(execFile);
const output = new LineCollector();
const manager = quietManager({ logSink: output.sink });
afterAll(async () => {
  await manager.dispose();
  await expectNoLeftovers();
});

/** A shell proc that waits for `go` on its own stdout/stderr protocol: here, for a file to appear. */
function waitForFileThen(marker: string, then: string): string {
  return `while [ ! -e '${marker}' ]; do sleep 0.02; done; ${then}`;
}

describe('readiness over sd_notify', () => {
  it('systemd-notify --ready from a shell child makes the proc ready, with STATUS= and the address', async () => {
    const h = await manager.spawn('shell-ready', {
      program: '/bin/sh',
      args: ['-c', 'systemd-notify --ready --status="serving 3 clients" PROCLAUNCH_ADDR=tcp://127.0.0.1:7001; exec sleep 1000'],
    });
    const ready = await h.ready();
    expect(ready).toEqual({ state: 'ready', pid: h.pid, startedAt: ready.startedAt, statusText: 'serving 3 clients', addr: 'tcp://127.0.0.1:7001' });
    expect(h.status()).toBe(ready);
    await h.kill();
    expect(await statesOf(h)).toEqual(['starting', 'running', 'ready', 'stopping', 'killed']);
  });

  it('a Node child using proclaunch/notify becomes ready, even when it exits right after', async () => {
    const h = await manager.spawn('node-ready', { program: process.execPath, args: [fixture('node-notify.mjs'), 'exit'] });
    const ready = await h.ready();
    expect(ready).toMatchObject({ state: 'ready', statusText: 'serving', addr: 'tcp://127.0.0.1:9000' });
    expect(await h.wait()).toEqual({ state: 'stopped', exitCode: 0, stderrTail: [] });
    expect(await statesOf(h)).toEqual(['starting', 'running', 'ready', 'stopped']);
  });

  it('keeps the STATUS= sent before READY=1, and takes later STATUS= updates while ready', async () => {
    const h = await manager.spawn('status-updates', {
      program: '/bin/sh',
      args: ['-c', 'systemd-notify STATUS=loading; systemd-notify --ready; systemd-notify STATUS=busy ADDR=unix:/run/x; echo sent; exec sleep 1000'],
    });
    expect(await h.ready()).toMatchObject({ state: 'ready', statusText: 'loading' });
    // systemd-notify returns only after the manager has handled its message, so "sent" comes after.
    await output.waitFor('status-updates', 'sent');
    expect(h.status()).toMatchObject({ state: 'ready', statusText: 'busy', addr: 'unix:/run/x' });
    expect(manager.status('status-updates')).toBe(h.status());
    await h.kill();
    // An update is not a transition.
    expect(await statesOf(h)).toEqual(['starting', 'running', 'ready', 'stopping', 'killed']);
  });

  it('accepts a descendant that left the process group and session (found through its parents)', async () => {
    const h = await manager.spawn('escaped-notifier', {
      program: '/bin/sh',
      args: ['-c', "setsid sh -c 'systemd-notify --ready STATUS=from-setsid'; exec sleep 1000"],
    });
    expect(await h.ready()).toMatchObject({ state: 'ready', statusText: 'from-setsid' });
    await h.kill();
  });

  it("ignores a stranger's READY=1 on the proc's socket", async () => {
    const marker = `/tmp/proclaunch-stranger-${process.pid}`;
    const h = await manager.spawn('stranger-target', {
      program: '/bin/sh',
      args: ['-c', `${waitForFileThen(marker, 'rm -f ' + marker + '; systemd-notify --ready STATUS=mine')}; exec sleep 1000`],
    });
    const address = envOf(h.pid!, 'NOTIFY_SOCKET');
    expect(address).toMatch(/^@proclaunch-/);
    // The stranger is our own child, outside the proc's tree. systemd-notify waits until
    // the manager has handled its message, so when it returns the verdict is in.
    await run('systemd-notify', ['--ready', 'STATUS=forged', 'PROCLAUNCH_ADDR=evil'], { env: { ...process.env, NOTIFY_SOCKET: address } });
    await run('/bin/sh', ['-c', 'systemd-notify --ready STATUS=forged-too'], { env: { ...process.env, NOTIFY_SOCKET: address } });
    expect(h.status()).toMatchObject({ state: 'running' });
    // The proc itself still can.
    await run('touch', [marker]);
    const ready = await h.ready();
    expect(ready.statusText).toBe('mine');
    expect(ready.addr).toBeUndefined();
    await h.kill();
  });

  it('STOPPING=1 from the proc moves it to stopping before it exits', async () => {
    const h = await manager.spawn('says-stopping', {
      program: '/bin/sh',
      args: ['-c', 'systemd-notify --ready; systemd-notify STOPPING=1; exit 0'],
    });
    expect(await h.wait()).toEqual({ state: 'stopped', exitCode: 0, stderrTail: [] });
    expect(await statesOf(h)).toEqual(['starting', 'running', 'ready', 'stopping', 'stopped']);
  });

  it('exit before ready rejects ready() with the terminal status', async () => {
    const h = await manager.spawn('dies-early', { program: '/bin/sh', args: ['-c', 'echo "cannot bind" >&2; exit 4'] });
    const error = await h.ready().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ProcNotReadyError);
    const terminal = await h.wait();
    expect(terminal).toEqual({ state: 'stopped', exitCode: 4, stderrTail: ['cannot bind'] });
    expect((error as ProcNotReadyError).status).toBe(terminal);
    expect(error).toMatchObject({ state: 'stopped', exitCode: 4, stderrTail: ['cannot bind'] });
    expect((error as Error).message).toBe('proc "dies-early" ended before it was ready: exited with code 4');
  });

  it('a ready timeout fails the proc and stops it', async () => {
    const timed = quietManager({ readyTimeoutMs: 300, terminateTimeoutMs: 2000 });
    try {
      const h = await timed.spawn('never-ready', { program: fixture('forever') });
      const pid = h.pid!;
      await expect(h.ready()).rejects.toMatchObject({ state: 'failed', reason: 'not ready within 300 ms' });
      expect(h.status()).toEqual({ state: 'failed', reason: 'not ready within 300 ms', stderrTail: [] });
      expect(isRunning(pid)).toBe(false);
      expect(await statesOf(h)).toEqual(['starting', 'running', 'stopping', 'failed']);
    } finally {
      await timed.dispose();
    }
  });

  it('a per-spawn readyTimeoutMs overrides the manager, and a ready proc is not failed by it', async () => {
    const h = await manager.spawn('in-time', { program: '/bin/sh', args: ['-c', 'systemd-notify --ready; exec sleep 1000'] }, { readyTimeoutMs: 20_000 });
    await h.ready();
    const stopped = await h.terminate(2000);
    expect(stopped).toMatchObject({ state: 'killed', signalName: 'SIGTERM' });
  });

  it('a ready timeout stops a proc that ignores SIGTERM with a kill after the grace', async () => {
    const timed = quietManager({ readyTimeoutMs: 100, terminateTimeoutMs: 200 });
    try {
      const h = await timed.spawn('stubborn', { program: fixture('ignore-term') });
      expect(await h.wait()).toEqual({ state: 'failed', reason: 'not ready within 100 ms', stderrTail: [] });
      expect(isRunning(h.pid!)).toBe(false);
    } finally {
      await timed.dispose();
    }
  });
});
