// Environment, argv and cwd: the contract variables, the overlay on the parent's env,
// argv exactly (arg0 where the backend can), PATH lookup and the working directory.
import { mkdtempSync, rmSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';

import type { LaunchOptions } from '../../src/index.js';
import { readAll } from '../helpers/fixtures.js';
import { capturedErr, capturedOut, exitOf, type ContractBackend } from './backend.js';

function envOf(text: string): Map<string, string> {
  return new Map(text.split('\0').filter((line) => line.length > 0).map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]));
}

/** Runs with a temporarily changed process.env variable, restoring it afterwards. */
async function withParentVar<T>(name: string, value: string | undefined, run: () => Promise<T>): Promise<T> {
  const saved = process.env[name];
  if (value === undefined) delete process.env[name];
  else process.env[name] = value;
  try {
    return await run();
  } finally {
    if (saved === undefined) delete process.env[name];
    else process.env[name] = saved;
  }
}

export function defineEnvContract(backend: ContractBackend): void {
  const caps = backend.capabilities;

  /** The host part of a default process name for a proc placed on `host` (multi-host backends tell it). */
  const defaultHost = (parentName: string | undefined, host: string | undefined): string =>
    caps.processNameHost === 'proc-host' ? host! : (parentName?.split(' @ ').at(-1) ?? hostname());

  /** Runs a shell snippet and returns its stdout (and where it ran); the proc must exit 0. */
  async function run(procId: string, script: string, extra: Partial<LaunchOptions> = {}): Promise<{ text: string; host: string | undefined }> {
    const { command, ...rest } = extra;
    const args = ['-c', script, ...(command?.args ?? [])];
    const result = await backend.launcher().launch(procId, { command: { program: '/bin/sh', ...command, args }, ...rest, wantStdio: true });
    const [text] = await Promise.all([readAll(capturedOut(result)), readAll(capturedErr(result))]);
    expect(await result.exit).toEqual(exitOf(backend, { kind: 'exited', code: 0 }));
    return { text, host: (result as { host?: string }).host };
  }
  const output = async (procId: string, script: string, extra: Partial<LaunchOptions> = {}): Promise<string> => (await run(procId, script, extra)).text;
  const environ = async (procId: string, extra: Partial<LaunchOptions> = {}): Promise<Map<string, string>> => envOf(await output(procId, 'cat /proc/self/environ', extra));
  const environAndHost = async (procId: string): Promise<{ env: Map<string, string>; host: string | undefined }> => {
    const { text, host } = await run(procId, 'cat /proc/self/environ');
    return { env: envOf(text), host };
  };

  it('passes the contract variables, command.env, NOTIFY_SOCKET and the parent env', async () => {
    const { text, host: ranOn } = await withParentVar('PROCLAUNCH_TEST_PARENT', 'from-parent', () =>
      run('env-1', 'cat /proc/self/environ', {
        command: { program: '/bin/sh', env: { FOO: 'bar baz', EMPTY: '', DOLLAR: '$HOME', NOTIFY_SOCKET: '/run/proclaunch-test/notify.sock' } },
        bootstrapPayload: 'payload-1',
        logChannel: 'unix:/tmp/log-channel',
      }),
    );
    const env = envOf(text);
    expect(env.get('FOO')).toBe('bar baz');
    expect(env.get('EMPTY')).toBe('');
    expect(env.get('DOLLAR')).toBe('$HOME');
    expect(env.get('NOTIFY_SOCKET')).toBe('/run/proclaunch-test/notify.sock');
    expect(env.get('PROCLAUNCH_TEST_PARENT')).toBe('from-parent');
    expect(env.get('HYPERACTOR_MESH_BOOTSTRAP_MODE')).toBe('payload-1');
    expect(env.get('BOOTSTRAP_LOG_CHANNEL')).toBe('unix:/tmp/log-channel');
    expect(env.get('HYPERACTOR_PROCESS_NAME')).toBe(`env-1 @ ${defaultHost(process.env['HYPERACTOR_PROCESS_NAME'], ranOn)}`);
  });

  it('sets processName and the log channel when given, and leaves the per-proc variables unset when not', async () => {
    const withChannel = await environ('env-named', { bootstrapPayload: 'payload-xyz', logChannel: 'unix:@log-1', processName: 'custom name' });
    expect(withChannel.get('HYPERACTOR_MESH_BOOTSTRAP_MODE')).toBe('payload-xyz');
    expect(withChannel.get('HYPERACTOR_PROCESS_NAME')).toBe('custom name');
    expect(withChannel.get('BOOTSTRAP_LOG_CHANNEL')).toBe('unix:@log-1');
    const without = await environ('env-2', { processName: 'custom name' });
    expect(without.get('HYPERACTOR_PROCESS_NAME')).toBe('custom name');
    expect(without.has('HYPERACTOR_MESH_BOOTSTRAP_MODE')).toBe(false);
    expect(without.has('BOOTSTRAP_LOG_CHANNEL')).toBe(false);
  });

  const hostRule = caps.processNameHost === 'parent' ? "the host from the parent's own name, else our hostname" : 'the host the proc runs on';
  it(`defaults the process name to "<procId> @ <host>", ${hostRule}`, async () => {
    const { env: bare, host: bareHost } = await withParentVar('HYPERACTOR_PROCESS_NAME', undefined, () => environAndHost('worker-7'));
    expect(bare.get('HYPERACTOR_PROCESS_NAME')).toBe(`worker-7 @ ${defaultHost(undefined, bareHost)}`);
    // Nothing given, nothing set.
    expect(bare.has('BOOTSTRAP_LOG_CHANNEL')).toBe(false);
    expect(bare.has('HYPERACTOR_MESH_BOOTSTRAP_MODE')).toBe(false);
    const { env: named, host: namedHost } = await withParentVar('HYPERACTOR_PROCESS_NAME', 'parent @ host-from-parent', () => environAndHost('worker-8'));
    expect(named.get('HYPERACTOR_PROCESS_NAME')).toBe(`worker-8 @ ${defaultHost('parent @ host-from-parent', namedHost)}`);
  });

  it('overlays command.env on the parent environment, the overlay winning', async () => {
    const env = await withParentVar('PROCLAUNCH_TEST_INHERITED', 'from-parent', () =>
      environ('env-3', { command: { program: '/bin/sh', env: { EXTRA: 'a b $HOME', PROCLAUNCH_TEST_INHERITED: 'overridden' } } }),
    );
    expect(env.get('EXTRA')).toBe('a b $HOME');
    expect(env.get('PROCLAUNCH_TEST_INHERITED')).toBe('overridden');
    expect(env.get('PATH')).toBe(process.env['PATH']);
  });

  if (caps.arg0) {
    it('passes argv exactly, arg0 included, and runs in cwd', async () => {
      const result = await backend.launcher().launch('argv', {
        command: { program: '/bin/sh', arg0: 'my-shell', args: ['-c', 'tr "\\0" "\\n" < /proc/$$/cmdline; echo "$0|$1|$(pwd)"', 'x y', '*'], cwd: '/usr' },
        wantStdio: true,
      });
      const lines = (await readAll(capturedOut(result))).split('\n');
      expect(lines[0]).toBe('my-shell');
      expect(lines[1]).toBe('-c');
      expect(lines.slice(3)).toEqual(['x y', '*', 'x y|*|/usr', '']);
      await result.exit;
    });

    it('gives argv[0] and the arguments exactly, without $ or % expansion', async () => {
      const text = await output('argv-2', 'tr "\\0" "|" < /proc/$$/cmdline', {
        command: { program: '/bin/sh', arg0: 'custom-zero', args: ['$HOME', '${FOO}', '%n', '', 'two words'] },
      });
      expect(text).toBe('custom-zero|-c|tr "\\0" "|" < /proc/$$/cmdline|$HOME|${FOO}|%n||two words|');
    });
  } else {
    it('rejects command.arg0 with an error naming it, and starts nothing', async () => {
      const before = backend.size();
      const launching = backend.launcher().launch('argv', { command: { program: '/bin/sh', arg0: 'my-shell', args: ['-c', 'true'] } });
      await expect(launching).rejects.toThrow(/opts\.command\.arg0/);
      expect(backend.size()).toBe(before);
    });
  }

  it('gives the arguments exactly, without $ or % expansion, argv[0] being the program', async () => {
    const text = await output('argv-3', 'tr "\\0" "|" < /proc/$$/cmdline', {
      command: { program: '/bin/sh', args: ['$HOME', '${FOO}', '%n', '', 'two words', 'x y', '*'] },
    });
    expect(text).toBe('/bin/sh|-c|tr "\\0" "|" < /proc/$$/cmdline|$HOME|${FOO}|%n||two words|x y|*|');
  });

  if (caps.procBind) {
    it('applies procBind.cpus to the proc (its own Cpus_allowed_list)', async () => {
      const text = await output('bind', 'grep Cpus_allowed_list /proc/self/status', { procBind: { cpus: '0' } });
      expect(text).toMatch(/^Cpus_allowed_list:\s+0\n$/);
    });
  } else {
    it('rejects procBind with an error naming it, and starts nothing', async () => {
      const before = backend.size();
      await expect(backend.launcher().launch('bind', { command: { program: '/bin/true' }, procBind: { cpus: '0' } })).rejects.toThrow(/opts\.procBind/);
      expect(backend.size()).toBe(before);
    });
  }

  it('looks the program up in PATH, the overlay PATH first, and runs in cwd (default: ours)', async () => {
    const scratch = mkdtempSync(join(tmpdir(), 'proclaunch-contract-cwd-'));
    try {
      const result = await backend.launcher().launch('path-lookup', { command: { program: 'pwd', cwd: scratch }, wantStdio: true });
      expect(await readAll(capturedOut(result))).toBe(`${scratch}\n`);
      expect(await result.exit).toEqual(exitOf(backend, { kind: 'exited', code: 0 }));
    } finally {
      rmSync(scratch, { recursive: true, force: true });
    }
    expect(await output('default-cwd', 'pwd')).toBe(`${process.cwd()}\n`);
    const byName = await backend.launcher().launch('path', { command: { program: 'true' } });
    expect(await byName.exit).toMatchObject({ kind: 'exited', code: 0 });
    await expect(backend.launcher().launch('path-2', { command: { program: 'true', env: { PATH: '/nonexistent-dir' } } })).rejects.toMatchObject({
      code: 'ENOENT',
    });
  });
}
