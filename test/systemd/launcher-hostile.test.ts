// Issue #9 class 2: strings from the caller become settings of a transient unit, and systemd
// re-reads that unit's file at every daemon-reload. Hostile ids, argv, env and cwd must neither
// add a setting (here: an ExecStopPost= that would touch a marker when the unit stops) nor
// reach the proc changed.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readlinkSync, realpathSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

import type { LaunchResult } from '../../src/index.js';
import { describeProcId } from '../../src/systemd/unit-file-text.js';
import { fixture } from '../helpers/fixtures.js';
import { unitProperties } from './bus-tools.js';
import { busAddress, daemonReload, launcherFor, skipNote, systemd } from './harness.js';

/** The settings our properties become in the file; anything else was injected. */
const EXPECTED_KEYS = ['CPUAccounting', 'CollectMode', 'Description', 'Environment', 'ExecStart', 'KillMode', 'TimeoutStopSec', 'Type', 'WorkingDirectory'];
const EXEC_HOOKS = ['ExecStartPre', 'ExecStartPost', 'ExecStop', 'ExecStopPost', 'ExecReload', 'ExecCondition'];

function keysOf(unitFile: string): { keys: string[]; sections: string[] } {
  const lines = unitFile.split('\n').filter((line) => line.length > 0 && !line.startsWith('#'));
  const sections = [...new Set(lines.filter((line) => line.startsWith('[')))].sort();
  const keys = [...new Set(lines.filter((line) => !line.startsWith('[')).map((line) => line.slice(0, line.indexOf('='))))].sort();
  return { keys, sections };
}

function procStrings(pid: number, file: 'cmdline' | 'environ'): string[] {
  return readFileSync(`/proc/${pid}/${file}`, 'utf8').split('\0').slice(0, -1);
}

describe.skipIf(!systemd.available)(`SystemdProcLauncher with hostile strings, across daemon-reload${skipNote}`, () => {
  const launcher = launcherFor('hostile');
  const scratch = realpathSync(mkdtempSync(join(tmpdir(), 'proclaunch-sd-hostile-')));
  afterAll(() => rmSync(scratch, { recursive: true, force: true }));
  const marker = join(scratch, 'injected-command-ran');
  const inject = `\n[Service]\nExecStopPost=/bin/touch ${marker}\n`;

  it('adds no setting, keeps every unit loaded and gives each proc exactly its argv, env and cwd', async () => {
    const cwd = join(scratch, `cwd %n $X ;"q' \\x`);
    mkdirSync(cwd);
    const binDir = join(scratch, 'bin dir %n');
    mkdirSync(binDir);
    symlinkSync('/bin/sh', join(binDir, 'sh'));
    const ids = [
      `job-42${inject}`,
      // A line ending in "\" would swallow the next one ([Service]) on reload.
      'trailing-backslash\\',
      `cr\r[Service]\rExecStopPost=/bin/touch ${marker}\r\u0085\u2028 %n %i $X "q' `,
      `${'long-'.repeat(60)}${inject}`, // cut and hashed unit name, Description cut too
    ];
    const arg0 = `sh${inject}`;
    const args = ['-c', 'sleep 1000; :', ';', inject, '\\', '%n%%', '$HOME', '$$', '${X}', '"', "'", '', '\\;', ' lead', 'trail ', '\t', '\u0001\u007f', 'é\u2028'];
    const env = { EVIL: inject, BS: 'x\\', PCT: '%n%%', DOLLAR: '$X$$', QUOTES: `"'`, CR: 'a\rb', SP: ' lead and trail ', EMPTY: '' };
    const programs = ['/bin/sh', join(binDir, 'sh')];

    const results: LaunchResult[] = [];
    for (const [i, id] of ids.entries()) {
      results.push(await launcher.launch(id, { command: { program: programs[i % 2]!, arg0, args, env, cwd } }));
    }
    const envEntries = Object.entries(env).map(([key, value]) => `${key}=${value}`);

    // The files systemd will re-read: only our settings, and the Description escaped.
    for (const id of ids) {
      const { FragmentPath } = await unitProperties(busAddress(), launcher.unitNameOf(id), 'Unit', ['FragmentPath']);
      const text = readFileSync(String(FragmentPath), 'utf8');
      expect(keysOf(text)).toEqual({ keys: EXPECTED_KEYS, sections: ['[Service]', '[Unit]'] });
      expect(text).toContain(`\nDescription=${describeProcId(id).replaceAll('%', '%%')}\n`);
      expect(describeProcId(id)).not.toMatch(/[\n\r\u0085\u2028]|\\$/);
    }

    await daemonReload();

    for (const [i, id] of ids.entries()) {
      const name = launcher.unitNameOf(id);
      const unit = await unitProperties(busAddress(), name, 'Unit', ['LoadState', 'ActiveState', 'Description']);
      expect(unit).toEqual({ LoadState: 'loaded', ActiveState: 'active', Description: describeProcId(id) });
      const service = await unitProperties(busAddress(), name, 'Service', ['MainPID', 'WorkingDirectory', 'Environment', ...EXEC_HOOKS]);
      expect(service['MainPID']).toBe(results[i]!.pid);
      expect(service['WorkingDirectory']).toBe(cwd);
      expect(service['Environment']).toEqual(expect.arrayContaining(envEntries));
      for (const hook of EXEC_HOOKS) expect(service[hook]).toEqual([]);
      // The proc itself, as the kernel sees it.
      const pid = results[i]!.pid!;
      expect(procStrings(pid, 'cmdline')).toEqual([arg0, ...args]);
      expect(procStrings(pid, 'environ')).toEqual(expect.arrayContaining(envEntries));
      expect(readlinkSync(`/proc/${pid}/cwd`)).toBe(cwd);
    }

    // Stopping runs ExecStopPost= if there is one: there must be none.
    await Promise.all(ids.map((id) => launcher.terminate(id, 10_000)));
    for (const result of results) expect(await result.exit).toMatchObject({ kind: 'signaled', signal: 15 });
    expect(existsSync(marker)).toBe(false);
    expect(launcher.size).toBe(0);
  });

  it('keeps an environment larger than a unit-file line (1 MiB) loadable across a reload', async () => {
    const env = Object.fromEntries(Array.from({ length: 12 }, (_, i) => [`BIG${i}`, `${'v'.repeat(100_000)}${i}`]));
    const result = await launcher.launch('big-env', { command: { program: fixture('forever'), env } });
    await daemonReload();
    const name = launcher.unitNameOf('big-env');
    expect(await unitProperties(busAddress(), name, 'Unit', ['LoadState'])).toEqual({ LoadState: 'loaded' });
    const { Environment } = await unitProperties(busAddress(), name, 'Service', ['Environment']);
    const entries = Object.entries(env).map(([key, value]) => `${key}=${value}`);
    expect(Environment).toEqual(expect.arrayContaining(entries));
    expect(procStrings(result.pid!, 'environ')).toEqual(expect.arrayContaining(entries));
    await launcher.kill('big-env');
    expect(await result.exit).toMatchObject({ kind: 'signaled', signal: 9 });
  });

  it('rejects a cwd that systemd would change on reload, naming the option', async () => {
    for (const name of ['new\nline', 'carriage\rreturn', 'trailing-space ', 'trailing-tab\t', 'trailing-backslash\\', 'bell\u0007']) {
      const cwd = join(scratch, name);
      mkdirSync(cwd);
      const launch = launcher.launch('bad-cwd', { command: { program: '/bin/true', cwd } });
      await expect(launch).rejects.toThrow(RangeError);
      await expect(launch).rejects.toThrow(/^opts\.command\.cwd /);
    }
    expect(launcher.size).toBe(0);
  });

  it('rejects a program path systemd would refuse on reload, also when found in PATH', async () => {
    for (const name of ['quote"d', "single'", 'back\\slash', 'dollar$x', 'semi;colon', 'new\nline']) {
      const dir = join(scratch, `prog-${name}`);
      mkdirSync(dir);
      symlinkSync('/bin/true', join(dir, 'true'));
      await expect(launcher.launch('bad-program', { command: { program: join(dir, 'true') } })).rejects.toThrow(/^opts\.command\.program resolves to /);
      await expect(launcher.launch('bad-program', { command: { program: 'true', env: { PATH: dir } } })).rejects.toThrow(RangeError);
    }
    expect(launcher.size).toBe(0);
  });
});
