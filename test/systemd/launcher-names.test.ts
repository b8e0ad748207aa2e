// Unit names per proc: ids whose names used to collide both run, and a launch refused
// because its unit name is taken leaves every other proc's tracking as it was.
import { createHash } from 'node:crypto';

import { describe, expect, it } from 'vitest';

import { fixture } from '../helpers/fixtures.js';
import { expectNoUnitsLeft, launcherFor, skipNote, systemd, TREE_USAGE } from './harness.js';

const SIGKILLED = { kind: 'signaled', signal: 9, signalName: 'SIGKILL', coreDumped: false, treeUsage: TREE_USAGE };

describe.skipIf(!systemd.available)(`SystemdProcLauncher unit names${skipNote}`, () => {
  const launcher = launcherFor('names');
  // Same prefix: its units are the names `launcher` would give the same ids.
  const other = launcherFor('names');

  it('runs a cut (hashed) id and the plain id that used to get the same unit name, side by side', async () => {
    const prefix = launcher.unitNameOf('a').slice(0, -'a.service'.length);
    const long = 'y'.repeat(300);
    const room = 255 - '.service'.length - prefix.length;
    const oldTwin = `${'y'.repeat(room - 17)}-${createHash('sha256').update(long).digest('hex').slice(0, 16)}`;
    expect(launcher.unitNameOf(oldTwin)).toBe(`${prefix}${oldTwin}.service`);
    expect(launcher.unitNameOf(long)).not.toBe(launcher.unitNameOf(oldTwin));

    const first = await launcher.launch(long, { command: { program: fixture('forever') } });
    const second = await launcher.launch(oldTwin, { command: { program: fixture('forever') } });
    expect(second.pid).not.toBe(first.pid);
    await launcher.kill(long);
    expect(await first.exit).toEqual(SIGKILLED);
    await launcher.kill(oldTwin);
    expect(await second.exit).toEqual(SIGKILLED);
    expect(launcher.size).toBe(0);
  });

  it('refuses a launch whose unit name is running elsewhere, leaving its own procs tracked', async () => {
    const mine = await launcher.launch('mine', { command: { program: fixture('forever') } });
    const theirs = await other.launch('taken', { command: { program: fixture('forever') } });
    await expect(launcher.launch('taken', { command: { program: fixture('forever') } })).rejects.toMatchObject({
      name: 'ProcLauncherError',
      kind: 'launch',
      code: 'EEXIST',
    });
    expect(launcher.size).toBe(1);
    // The refused launch touched nothing of "mine" (nor of the other launcher's unit).
    await launcher.kill('mine');
    expect(await mine.exit).toEqual(SIGKILLED);
    await launcher.kill('taken'); // not ours: a no-op
    expect(other.size).toBe(1);
    await other.kill('taken');
    expect(await theirs.exit).toEqual(SIGKILLED);
    await expectNoUnitsLeft(launcher.unitNameOf('taken'));
    // Free again, the id launches.
    const again = await launcher.launch('taken', { command: { program: '/bin/true' } });
    expect(await again.exit).toEqual({ kind: 'exited', code: 0, treeUsage: TREE_USAGE });
  });
});
