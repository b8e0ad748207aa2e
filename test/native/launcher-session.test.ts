// opts.newSession: a process group in our session by default (setpgid), a session of
// its own when asked (setsid); either way the group is what kill(-pgid) reaches.
import { afterAll, describe, expect, it } from 'vitest';

import { NativeProcLauncher, ProcManager } from '../../src/index.js';
import { firstLine, fixture } from '../helpers/fixtures.js';
import { isRunning, readStat, waitFor } from '../helpers/proc-table.js';

const launcher = new NativeProcLauncher();
afterAll(() => launcher.dispose());

async function launchWithGrandchild(procId: string, newSession?: boolean) {
  const result = await launcher.launch(procId, {
    command: { program: fixture('spawn-grandchild') },
    wantStdio: true,
    ...(newSession === undefined ? {} : { newSession }),
  });
  if (result.stdio.kind !== 'captured') throw new Error('expected captured stdio');
  const grandchild = Number(await firstLine(result.stdio.stdout));
  result.stdio.stdout.resume();
  return { result, grandchild };
}

describe('opts.newSession', () => {
  const ourSession = readStat(process.pid)!.session;

  it.each([undefined, false])('%s: own process group, our session, the grandchild in the group', async (newSession) => {
    const { result, grandchild } = await launchWithGrandchild(`pgrp-${String(newSession)}`, newSession);
    expect(readStat(result.pid!)).toMatchObject({ pgrp: result.pid, session: ourSession });
    expect(readStat(grandchild)).toMatchObject({ pgrp: result.pid, session: ourSession });
    expect(ourSession).not.toBe(result.pid);
    await launcher.kill(`pgrp-${String(newSession)}`);
    expect(await result.exit).toMatchObject({ kind: 'signaled', signal: 9 });
    // kill(-pgid) reached the group, not only the leader.
    await waitFor(() => !isRunning(grandchild), `grandchild ${grandchild} to die`);
  });

  it('true: the proc leads a session of its own (sid == pid), terminate still reaches the group', async () => {
    const { result, grandchild } = await launchWithGrandchild('session-true', true);
    expect(readStat(result.pid!)).toMatchObject({ pgrp: result.pid, session: result.pid });
    expect(readStat(grandchild)).toMatchObject({ pgrp: result.pid, session: result.pid });
    await launcher.terminate('session-true', 10_000);
    expect(await result.exit).toMatchObject({ kind: 'signaled', signal: 15 });
    await waitFor(() => !isRunning(grandchild), `grandchild ${grandchild} to die`);
  });

  it.each([['yes'], [1], [null], [{}]])('rejects %j with a TypeError naming opts.newSession', async (value) => {
    const launch = launcher.launch('bad-session', { command: { program: '/bin/true' }, newSession: value as never });
    await expect(launch).rejects.toThrow(TypeError);
    await expect(launch).rejects.toThrow(/opts\.newSession must be a boolean/);
  });

  it('ProcManager passes it through, and readiness from the group still counts', async () => {
    const manager = new ProcManager({ launcher: 'native', readyTimeoutMs: 60_000 });
    try {
      // The notifier is a daemonized grandchild (its parent, the inner sh, is gone):
      // only its process group ties it to the proc.
      const script = "sh -c '(sleep 0.2; systemd-notify --ready STATUS=from-orphan) &'; exec sleep 1000";
      const inGroup = await manager.spawn('orphan-notifier', { program: '/bin/sh', args: ['-c', script] });
      expect(await inGroup.ready()).toMatchObject({ state: 'ready', statusText: 'from-orphan' });
      const h = await manager.spawn('with-session', { program: '/bin/sh', args: ['-c', 'exec sleep 1000'] }, { newSession: true });
      const status = h.status();
      if (status.state !== 'running' && status.state !== 'ready') throw new Error(`unexpected ${status.state}`);
      expect(readStat(status.pid!)).toMatchObject({ session: status.pid });
      await expect(manager.spawn('bad', { program: '/bin/true' }, { newSession: 'no' as never })).rejects.toThrow(/opts\.newSession/);
    } finally {
      await manager.dispose();
    }
  });
});
