import { describe, expect, it, vi } from 'vitest';

import { NativeProcLauncher } from '../../src/index.js';
import { fixture, readAll } from '../helpers/fixtures.js';

const launcher = new NativeProcLauncher();

describe('NativeProcLauncher stdio', () => {
  it('captures stdout and stderr only when asked', async () => {
    const captured = await launcher.launch('cap', {
      command: { program: '/bin/sh', args: ['-c', 'echo out-1; echo err-1 >&2'] },
      wantStdio: true,
    });
    expect(captured.stdio.kind).toBe('captured');
    if (captured.stdio.kind !== 'captured') return;
    const [out, err] = await Promise.all([readAll(captured.stdio.stdout), readAll(captured.stdio.stderr)]);
    expect(out).toBe('out-1\n');
    expect(err).toBe('err-1\n');
    expect(await captured.exit).toMatchObject({ kind: 'exited', code: 0 });

    const inherited = await launcher.launch('inh', { command: { program: '/bin/true' } });
    expect(inherited.stdio).toEqual({ kind: 'inherited' });
    await inherited.exit;
  });

  it('gives the child only fds 0, 1 and 2, with stdin on /dev/null', async () => {
    const result = await launcher.launch('fds', {
      command: { program: '/bin/sh', args: ['-c', `${fixture('list-fds')}; readlink /proc/self/fd/0; cat`] },
      wantStdio: true,
    });
    if (result.stdio.kind !== 'captured') throw new Error('expected captured stdio');
    const lines = (await readAll(result.stdio.stdout)).trim().split('\n');
    // list-fds runs `ls /proc/self/fd`, which sees its own directory fd (3) too.
    expect(lines.slice(0, -1)).toEqual(['0', '1', '2', '3']);
    expect(lines.at(-1)).toBe('/dev/null');
    expect(await result.exit).toMatchObject({ kind: 'exited', code: 0 });
  });

  it('keeps a stderr tail of whole lines in the exit result', async () => {
    const result = await launcher.launch('tail', {
      command: { program: '/bin/sh', args: ['-c', 'for i in 1 2 3 4 5; do echo "line $i" >&2; done; printf "no newline" >&2; exit 3'] },
      wantStdio: true,
      tailLines: 3,
    });
    if (result.stdio.kind !== 'captured') throw new Error('expected captured stdio');
    const all = await readAll(result.stdio.stderr);
    expect(all).toBe('line 1\nline 2\nline 3\nline 4\nline 5\nno newline');
    const exit = await result.exit;
    expect(exit).toMatchObject({ kind: 'exited', code: 3, stderrTail: ['line 4', 'line 5', 'no newline'] });
  });

  it('keeps a tail without capturing, copying stderr to ours', async () => {
    // The copy goes through our process.stderr: catch it there, so it is checked and stays out of the test output.
    let copied = '';
    const write = vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
      copied += Buffer.from(chunk).toString();
      return true;
    });
    try {
      const result = await launcher.launch('tail-inh', {
        command: { program: '/bin/sh', args: ['-c', 'echo only-line >&2; exit 4'] },
        tailLines: 10,
      });
      expect(result.stdio.kind).toBe('inherited');
      expect(await result.exit).toMatchObject({ kind: 'exited', code: 4, stderrTail: ['only-line'] });
    } finally {
      write.mockRestore();
    }
    expect(copied).toBe('only-line\n');
  });
});

describe('NativeProcLauncher inherited stdio', () => {
  it('reaches the parent\'s stdout and stderr even when Node marked them close-on-exec', async () => {
    const { execFileSync } = await import('node:child_process');
    const { pathToFileURL } = await import('node:url');
    const entry = pathToFileURL(new URL('../../dist/index.js', import.meta.url).pathname).href;
    const script = `
      import { NativeProcLauncher } from ${JSON.stringify(entry)};
      const launcher = new NativeProcLauncher();
      const r = await launcher.launch('inherit', { command: { program: '/bin/sh', args: ['-c', 'echo to-stdout; echo to-stderr >&2'] } });
      const exit = await r.exit;
      if (exit.kind !== 'exited' || exit.code !== 0) process.exit(3);`;
    const output = execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    expect(output).toBe('to-stdout\n');
  });
});
