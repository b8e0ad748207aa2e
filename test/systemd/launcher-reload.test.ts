// daemon-reload drops every unit and loads it again (UnitRemoved for each): for a live proc
// it must change nothing. Its exit stays pending, terminate/kill/dispose still reach it, and
// its real exit is reported once, with the right code.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

import type { ProcExitResult } from '../../src/index.js';
import { fixture } from '../helpers/fixtures.js';
import { isRunning } from '../helpers/proc-table.js';
import { daemonReload, expectNoUnitsLeft, launcherFor, skipNote, systemd, TREE_USAGE } from './harness.js';

function settleCount(promise: Promise<ProcExitResult>): () => number {
  let count = 0;
  void promise.then(() => count++);
  return () => count;
}

describe.skipIf(!systemd.available)(`SystemdProcLauncher across daemon-reload${skipNote}`, () => {
  const launcher = launcherFor('reload');
  const disposed = launcherFor('reload-dispose');
  const scratch = mkdtempSync(join(tmpdir(), 'proclaunch-sd-reload-'));
  afterAll(() => rmSync(scratch, { recursive: true, force: true }));

  /**
   * A whole launch → exit of another unit on the same connection: the manager sent its
   * reload's UnitRemoved signals before any of these replies, so once this returns the
   * launcher has seen them, and its own re-checks (sent earlier) were answered first.
   */
  async function roundTrip(id: string): Promise<void> {
    const probe = await launcher.launch(id, { command: { program: '/bin/true' } });
    expect(await probe.exit).toEqual({ kind: 'exited', code: 0, treeUsage: TREE_USAGE });
  }

  it('keeps a live proc: its exit stays pending and kill still reaches it', async () => {
    const result = await launcher.launch('live', { command: { program: fixture('forever') } });
    const settled = settleCount(result.exit);
    await daemonReload();
    await roundTrip('live-probe');
    expect(settled()).toBe(0);
    expect(isRunning(result.pid!)).toBe(true);
    expect(launcher.size).toBe(1);
    await launcher.kill('live');
    expect(await result.exit).toEqual({ kind: 'signaled', signal: 9, signalName: 'SIGKILL', coreDumped: false, treeUsage: TREE_USAGE });
    expect(settled()).toBe(1);
    expect(launcher.size).toBe(0);
    await expectNoUnitsLeft(launcher.unitNameOf('live'));
  });

  it('reports the real exit code after several reloads, exactly once', async () => {
    const go = join(scratch, 'go');
    const result = await launcher.launch('exit-after', {
      command: { program: '/bin/sh', args: ['-c', 'while [ ! -e "$1" ]; do sleep 0.02; done; exit 7', 'sh', go] },
    });
    const settled = settleCount(result.exit);
    for (let i = 0; i < 3; i++) await daemonReload();
    await roundTrip('exit-after-probe');
    expect(settled()).toBe(0);
    writeFileSync(go, '');
    expect(await result.exit).toEqual({ kind: 'exited', code: 7, treeUsage: TREE_USAGE });
    await roundTrip('exit-after-probe-2');
    expect(settled()).toBe(1);
    await expectNoUnitsLeft(launcher.unitNameOf('exit-after'));
  });

  it('lets terminate reach a proc after a reload', async () => {
    const result = await launcher.launch('term', { command: { program: fixture('forever') } });
    await daemonReload();
    await launcher.terminate('term', 10_000);
    expect(await result.exit).toMatchObject({ kind: 'signaled', signal: 15 });
  });

  it('lets dispose reach a proc after a reload', async () => {
    const result = await disposed.launch('disposed', { command: { program: fixture('forever') } });
    await daemonReload();
    await disposed.dispose();
    expect(await result.exit).toEqual({ kind: 'signaled', signal: 9, signalName: 'SIGKILL', coreDumped: false, treeUsage: TREE_USAGE });
    expect(isRunning(result.pid!)).toBe(false);
  });

  it('finishes launches that a reload overlaps, and reports procs that exit during it', async () => {
    const ids = Array.from({ length: 6 }, (_, i) => `overlap-${i}`);
    const launches = ids.map((id, i) => launcher.launch(id, { command: { program: fixture('exit-n'), args: [String(i)] } }));
    const reloads = Promise.all([daemonReload(), daemonReload()]);
    const results = await Promise.all(launches);
    await reloads;
    expect(await Promise.all(results.map((result) => result.exit))).toEqual(ids.map((_, i) => ({ kind: 'exited', code: i, treeUsage: TREE_USAGE })));
    expect(launcher.size).toBe(0);
  });
});
