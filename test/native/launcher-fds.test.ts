// Native-only stdio details (the shared ones are in test/contract/stdio-contract.ts): the
// child gets fds 0-2 only (close_range), and inherited stdio survives Node's close-on-exec.
import { describe, expect, it } from 'vitest';

import { NativeProcLauncher } from '../../src/index.js';
import { fixture, readAll } from '../helpers/fixtures.js';

const launcher = new NativeProcLauncher();

describe('NativeProcLauncher fds', () => {
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
