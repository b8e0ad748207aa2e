import { readdirSync } from 'node:fs';
import { describe, expect, it, vi } from 'vitest';

import { SystemdProcLauncher } from '../../src/index.js';
import { firstLines, readAll } from '../helpers/fixtures.js';
import { openFds, waitFor } from '../helpers/proc-table.js';
import { expectNoUnitsLeft, skipNote, systemd, TREE_USAGE } from './harness.js';

describe.skipIf(!systemd.available)(`SystemdProcLauncher stdio${skipNote}`, () => {
  it('captures stdout and stderr as streams, and leaves them to systemd otherwise', async () => {
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

  it('gives the unit stdin on /dev/null and delivers a megabyte intact', async () => {
    const launcher = new SystemdProcLauncher({ unitPrefix: 'proclaunch-test-stdio-big-' });
    try {
      const result = await launcher.launch('big', {
        command: { program: '/bin/sh', args: ['-c', 'readlink /proc/self/fd/0 >&2; head -c 1048576 /dev/zero | tr "\\0" x'] },
        wantStdio: true,
      });
      if (result.stdio.kind !== 'captured') throw new Error('expected captured stdio');
      const [out, err] = await Promise.all([readAll(result.stdio.stdout), readAll(result.stdio.stderr)]);
      expect(err).toBe('/dev/null\n');
      expect(out.length).toBe(1_048_576);
      expect(/^x+$/.test(out)).toBe(true);
      expect(await result.exit).toEqual({ kind: 'exited', code: 0, treeUsage: TREE_USAGE });
    } finally {
      await launcher.dispose();
    }
    await expectNoUnitsLeft('proclaunch-test-stdio-big-*');
  });

  it('keeps a stderr tail of whole lines in the exit result', async () => {
    const launcher = new SystemdProcLauncher({ unitPrefix: 'proclaunch-test-stdio-tail-' });
    try {
      const result = await launcher.launch('tail', {
        command: { program: '/bin/sh', args: ['-c', 'for i in 1 2 3 4 5; do echo "line $i" >&2; done; printf "no newline" >&2; exit 3'] },
        wantStdio: true,
        tailLines: 3,
      });
      if (result.stdio.kind !== 'captured') throw new Error('expected captured stdio');
      expect(await readAll(result.stdio.stderr)).toBe('line 1\nline 2\nline 3\nline 4\nline 5\nno newline');
      expect(await result.exit).toEqual({ kind: 'exited', code: 3, stderrTail: ['line 4', 'line 5', 'no newline'], treeUsage: TREE_USAGE });

      // Stderr kept for a tail is copied to our process.stderr: catch it there, so it is
      // checked and stays out of the test output.
      let copied = '';
      const write = vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
        copied += Buffer.from(chunk).toString();
        return true;
      });
      try {
        const uncaptured = await launcher.launch('tail-only', {
          command: { program: '/bin/sh', args: ['-c', 'echo only-line >&2; exit 4'] },
          tailLines: 10,
        });
        expect(uncaptured.stdio).toEqual({ kind: 'managed-by-launcher' });
        expect(await uncaptured.exit).toEqual({ kind: 'exited', code: 4, stderrTail: ['only-line'], treeUsage: TREE_USAGE });
      } finally {
        write.mockRestore();
      }
      expect(copied).toBe('only-line\n');
    } finally {
      await launcher.dispose();
    }
    await expectNoUnitsLeft('proclaunch-test-stdio-tail-*');
  });
});
