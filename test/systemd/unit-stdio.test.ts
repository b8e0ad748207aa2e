import { readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

import { SystemdProcLauncher } from '../../src/index.js';
import { firstLines, readAll } from '../helpers/fixtures.js';
import { openFds, waitFor } from '../helpers/proc-table.js';
import { expectNoUnitsLeft, skipNote, systemd, TREE_USAGE } from './harness.js';

// Systemd-only stdio details (the shared stdio contract is in test/contract/stdio-contract.ts):
// what carries the streams, and that none of it outlives the launcher.
describe.skipIf(!systemd.available)(`SystemdProcLauncher stdio plumbing${skipNote}`, () => {
  it('leaves no socket, directory, fd or unit behind once the launcher is disposed', async () => {
    const launcher = new SystemdProcLauncher({ unitPrefix: 'proclaunch-test-stdio-' });
    const fdsBefore = openFds().length;
    const captured = await launcher.launch('cap', {
      command: { program: '/bin/sh', args: ['-c', 'echo out-1; echo err-1 >&2; echo out-2'] },
      wantStdio: true,
    });
    expect(captured.stdio.kind).toBe('captured');
    if (captured.stdio.kind !== 'captured') return;
    const [out, err] = await Promise.all([readAll(captured.stdio.stdout), readAll(captured.stdio.stderr)]);
    expect(out).toBe('out-1\nout-2\n');
    expect(err).toBe('err-1\n');
    expect(await captured.exit).toEqual({ kind: 'exited', code: 0, treeUsage: TREE_USAGE });

    const managed = await launcher.launch('managed', { command: { program: '/bin/true' } });
    expect(managed.stdio).toEqual({ kind: 'managed-by-launcher' });
    expect(await managed.exit).toEqual({ kind: 'exited', code: 0, treeUsage: TREE_USAGE });

    await launcher.dispose();
    // Neither sockets nor their directory outlive the launcher.
    expect(readdirSync(systemd.runtimeDir ?? '/tmp').filter((name) => name.startsWith('proclaunch-stdio-'))).toEqual([]);
    await waitFor(() => openFds().length <= fdsBefore, `fd count back to ${fdsBefore} (now ${openFds().length})`);
    await expectNoUnitsLeft('proclaunch-test-stdio-*');
  });

  it('passes real pipes to the unit (StandardOutputFileDescriptor) when the bus carries fds', async () => {
    const launcher = new SystemdProcLauncher({ unitPrefix: 'proclaunch-test-stdio-fd-' });
    try {
      const result = await launcher.launch('fd', {
        command: { program: '/bin/sh', args: ['-c', 'readlink /proc/self/fd/1 /proc/self/fd/2; exec sleep 1000'] },
        wantStdio: true,
      });
      if (result.stdio.kind !== 'captured') throw new Error('expected captured stdio');
      const lines = (await firstLines(result.stdio.stdout, 2)).map((line) => line.replace(/\d+/, 'N'));
      // Pipes, not sockets: the write ends came with the StartTransientUnit message itself.
      expect(lines).toEqual(['pipe:[N]', 'pipe:[N]']);
      await launcher.kill('fd');
      expect(await result.exit).toMatchObject({ kind: 'signaled', signal: 9 });
    } finally {
      await launcher.dispose();
    }
    await expectNoUnitsLeft('proclaunch-test-stdio-fd-*');
  });
});
