import { describe, expect, it } from 'vitest';

import { NativeProcLauncher } from '../../src/index.js';
import { openFds, waitFor, zombieChildren } from '../helpers/proc-table.js';

describe('NativeProcLauncher leaks', () => {
  it('1,000 launches leave the fd and zombie counts where they were', async () => {
    const launcher = new NativeProcLauncher();
    // Warm up once: the first launch loads the addon and the child stack.
    await (await launcher.launch('warm', { command: { program: '/bin/true' } })).exit;
    const fdsBefore = openFds().length;
    const zombiesBefore = zombieChildren().length;
    const settled = new Map<string, number>();
    for (let batch = 0; batch < 10; batch++) {
      const exits = [];
      for (let i = 0; i < 100; i++) {
        const id = `p-${batch}-${i}`;
        const result = await launcher.launch(id, {
          command: { program: '/bin/sh', args: ['-c', `exit ${i % 4}`] },
          wantStdio: i % 2 === 0,
        });
        if (result.stdio.kind === 'captured') {
          result.stdio.stdout.resume();
          result.stdio.stderr.resume();
        }
        exits.push(
          result.exit.then((exit) => {
            settled.set(id, (settled.get(id) ?? 0) + 1);
            expect(exit).toMatchObject({ kind: 'exited', code: i % 4 });
          }),
        );
      }
      await Promise.all(exits);
    }
    expect(settled.size).toBe(1000);
    expect([...settled.values()].every((count) => count === 1)).toBe(true);
    expect(launcher.size).toBe(0);
    // Captured pipes close asynchronously after EOF.
    await waitFor(() => openFds().length <= fdsBefore, `fd count to return to ${fdsBefore} (now ${openFds().length})`);
    expect(openFds().length).toBe(fdsBefore);
    expect(zombieChildren().length).toBe(zombiesBefore);
  });
});
