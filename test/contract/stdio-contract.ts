// Captured stdio: stdout and stderr as streams only when asked, stdin on /dev/null, a
// megabyte intact, and a stderr tail of whole lines with or without capturing.
import { expect, it, vi } from 'vitest';

import { readAll } from '../helpers/fixtures.js';
import { capturedErr, capturedOut, contractIt, exitOf, type ContractBackend } from './backend.js';

export function defineStdioContract(backend: ContractBackend): void {
  const caps = backend.capabilities;
  const launcher = (): ReturnType<ContractBackend['launcher']> => backend.launcher();

  it('captures stdout and stderr as streams only when asked', async () => {
    const captured = await launcher().launch('cap', {
      command: { program: '/bin/sh', args: ['-c', 'echo out-1; echo err-1 >&2; echo out-2'] },
      wantStdio: true,
    });
    expect(captured.stdio.kind).toBe('captured');
    const [out, err] = await Promise.all([readAll(capturedOut(captured)), readAll(capturedErr(captured))]);
    expect(out).toBe('out-1\nout-2\n');
    expect(err).toBe('err-1\n');
    expect(await captured.exit).toEqual(exitOf(backend, { kind: 'exited', code: 0 }));

    const uncaptured = await launcher().launch('uncaptured', { command: { program: '/bin/true' } });
    expect(uncaptured.stdio).toEqual({ kind: caps.uncapturedStdio });
    expect(await uncaptured.exit).toEqual(exitOf(backend, { kind: 'exited', code: 0 }));
  });

  contractIt(backend, 'stdin-null')('gives the proc stdin on /dev/null and delivers a megabyte intact', async () => {
    const result = await launcher().launch('big', {
      command: { program: '/bin/sh', args: ['-c', 'readlink /proc/self/fd/0 >&2; head -c 1048576 /dev/zero | tr "\\0" x'] },
      wantStdio: true,
    });
    const [out, err] = await Promise.all([readAll(capturedOut(result)), readAll(capturedErr(result))]);
    expect(err).toBe('/dev/null\n');
    expect(out.length).toBe(1_048_576);
    expect(/^x+$/.test(out)).toBe(true);
    expect(await result.exit).toEqual(exitOf(backend, { kind: 'exited', code: 0 }));
  });

  contractIt(backend, 'stderr-verbatim')('keeps a stderr tail of whole lines in the exit result', async () => {
    const result = await launcher().launch('tail', {
      command: { program: '/bin/sh', args: ['-c', 'for i in 1 2 3 4 5; do echo "line $i" >&2; done; printf "no newline" >&2; exit 3'] },
      wantStdio: true,
      tailLines: 3,
    });
    expect(await readAll(capturedErr(result))).toBe('line 1\nline 2\nline 3\nline 4\nline 5\nno newline');
    expect(await result.exit).toEqual(exitOf(backend, { kind: 'exited', code: 3, stderrTail: ['line 4', 'line 5', 'no newline'] }));
  });

  it('keeps a tail without capturing, copying stderr to ours', async () => {
    // The copy goes through our process.stderr: catch it there, so it is checked and stays out of the test output.
    let copied = '';
    const write = vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
      copied += Buffer.from(chunk).toString();
      return true;
    });
    try {
      const result = await launcher().launch('tail-only', {
        command: { program: '/bin/sh', args: ['-c', 'echo only-line >&2; exit 4'] },
        tailLines: 10,
      });
      expect(result.stdio).toEqual({ kind: caps.uncapturedStdio });
      expect(await result.exit).toEqual(exitOf(backend, { kind: 'exited', code: 4, stderrTail: ['only-line'] }));
    } finally {
      write.mockRestore();
    }
    expect(copied).toBe('only-line\n');
  });
}
