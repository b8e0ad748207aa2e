import { describe, expect, it } from 'vitest';

import { SystemdProcLauncher } from '../../src/index.js';
import { openFds, waitFor } from '../helpers/proc-table.js';
import { expectNoUnitsLeft, skipNote, systemd, TREE_USAGE } from './harness.js';

describe.skipIf(!systemd.available)(`SystemdProcLauncher at scale${skipNote}`, () => {
  it('50 units launched in parallel all report their exit, once, and none stays loaded', async () => {
    const launcher = new SystemdProcLauncher({ unitPrefix: 'proclaunch-test-many-' });
    await launcher.connect();
    const fdsBefore = openFds().length;
    const settled = new Map<string, number>();
    const ids = Array.from({ length: 50 }, (_, i) => `p-${i}`);
    const results = await Promise.all(
      ids.map((id, i) =>
        launcher.launch(id, { command: { program: '/bin/sh', args: ['-c', `echo ${id}; exit ${i % 5}`] }, wantStdio: i % 2 === 0 }),
      ),
    );
    const exits = results.map(async (result, i) => {
      const out = result.stdio.kind === 'captured' ? readText(result.stdio.stdout) : Promise.resolve(null);
      if (result.stdio.kind === 'captured') result.stdio.stderr.resume();
      const exit = await result.exit;
      settled.set(ids[i]!, (settled.get(ids[i]!) ?? 0) + 1);
      expect(exit).toEqual({ kind: 'exited', code: i % 5, treeUsage: TREE_USAGE });
      expect(await out).toBe(i % 2 === 0 ? `${ids[i]}\n` : null);
    });
    await Promise.all(exits);
    expect(settled.size).toBe(50);
    expect([...settled.values()].every((count) => count === 1)).toBe(true);
    expect(launcher.size).toBe(0);
    await expectNoUnitsLeft('proclaunch-test-many-*');
    await launcher.dispose();
    await waitFor(() => openFds().length <= fdsBefore, `fd count back to ${fdsBefore} (now ${openFds().length})`);
  });
});

async function readText(stream: NodeJS.ReadableStream): Promise<string> {
  let text = '';
  for await (const chunk of stream) text += String(chunk);
  return text;
}
