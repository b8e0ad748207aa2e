import { describe, expect, it } from 'vitest';

import { parseRunArgs, RUN_HELP, UsageError } from '../../src/cli/run-args.js';

describe('proclaunch run arguments', () => {
  it('defaults', () => {
    expect(parseRunArgs(['--', '/bin/echo', 'hi', '--json'], {})).toEqual({
      count: 1,
      name: 'echo',
      ready: false,
      readyTimeoutMs: 30_000,
      tail: 10,
      launcher: 'native',
      launcherSource: null,
      cgroup: null,
      nodes: null,
      allocation: null,
      callbackHost: null,
      timeoutMs: null,
      deadlineMs: null,
      graceMs: 5000,
      json: false,
      help: false,
      program: '/bin/echo',
      args: ['hi', '--json'],
    });
  });

  it('every option, in both spellings', () => {
    const args = parseRunArgs(['-n', '4', '--name=w', '--ready-timeout', '900', '--tail=3', '--launcher', 'systemd', '--timeout=100', '--grace', '7', '--json', 'prog', '-x'], {});
    expect(args).toMatchObject({ count: 4, name: 'w', ready: true, readyTimeoutMs: 900, tail: 3, launcher: 'systemd', launcherSource: '--launcher', timeoutMs: 100, graceMs: 7, json: true });
    expect(parseRunArgs(['--deadline', '250', 'prog'], {}).deadlineMs).toBe(250);
    expect(parseRunArgs(['--cgroup', '/sys/fs/cgroup/x', 'p'], {}).cgroup).toBe('/sys/fs/cgroup/x');
    expect(parseRunArgs(['--cgroup=/sys/fs/cgroup/y', 'p'], {}).cgroup).toBe('/sys/fs/cgroup/y');
    expect(args.program).toBe('prog');
    expect(args.args).toEqual(['-x']);
    expect(parseRunArgs(['--count=2', '--ready', '--', 'p'], {}).ready).toBe(true);
    expect(parseRunArgs(['-h'], {}).help).toBe(true);
    expect(parseRunArgs(['--help'], {}).help).toBe(true);
  });

  it('usage errors say what is wrong', () => {
    const cases: Array<[string[], RegExp | string]> = [
      [[], /missing PROGRAM/],
      [['-n'], /-n needs a value/],
      [['-n', 'two', 'p'], /--count must be a whole number, got "two"/],
      [['-n', '0', 'p'], /--count must be from 1/],
      [['--launcher', 'docker', 'p'], '--launcher must be native, systemd or slurm, got "docker"'],
      [['--bogus', 'p'], /^unknown option --bogus$/],
      [['--redy', 'p'], 'unknown option --redy (did you mean --ready?)'],
      [['--Json', 'p'], 'unknown option --Json (did you mean --json?)'],
      [['--ready-time', '5', 'p'], 'unknown option --ready-time (did you mean --ready-timeout?)'],
      [['--cgroups', '/x', 'p'], 'unknown option --cgroups (did you mean --cgroup?)'],
      [['-x', 'p'], /^unknown option -x$/],
      [['--cgroup', 'relative/dir', 'p'], '--cgroup must be an absolute path, got "relative/dir"'],
      [['--cgroup', '/sys/fs/cgroup/x', '--launcher', 'systemd', 'p'], '--cgroup works with the native launcher only (--launcher chose systemd'],
      [['--json=yes', 'p'], /--json takes no value/],
      [['--timeout', '-5', 'p'], /--timeout must be a whole number/],
      [['--deadline', '1.5', 'p'], /--deadline must be a whole number/],
      [['--deadline', '0', 'p'], /--deadline must be from 1 to 2147483647, got 0/],
      [['--deadline', 'soon', 'p'], /--deadline must be a whole number, got "soon"/],
      [['--deadlin', '5', 'p'], 'unknown option --deadlin (did you mean --deadline?)'],
    ];
    for (const [argv, message] of cases) {
      expect(() => parseRunArgs(argv, {})).toThrow(UsageError);
      expect(() => parseRunArgs(argv, {})).toThrow(message);
    }
  });

  it('PROCLAUNCH_LAUNCHER picks the launcher when --launcher is absent; a bad value is a usage error naming it', () => {
    expect(parseRunArgs(['p'], { PROCLAUNCH_LAUNCHER: 'systemd' })).toMatchObject({ launcher: 'systemd', launcherSource: 'PROCLAUNCH_LAUNCHER' });
    expect(parseRunArgs(['p'], { PROCLAUNCH_LAUNCHER: '' })).toMatchObject({ launcher: 'native', launcherSource: null });
    // The flag wins, so a bad environment does not stand in the way of an explicit choice.
    expect(parseRunArgs(['--launcher', 'native', 'p'], { PROCLAUNCH_LAUNCHER: 'bogus' })).toMatchObject({ launcher: 'native', launcherSource: '--launcher' });
    expect(() => parseRunArgs(['p'], { PROCLAUNCH_LAUNCHER: 'bogus' })).toThrow(new UsageError('PROCLAUNCH_LAUNCHER must be native, systemd or slurm, got "bogus"'));
    expect(() => parseRunArgs(['--cgroup', '/sys/fs/cgroup/x', 'p'], { PROCLAUNCH_LAUNCHER: 'systemd' })).toThrow(
      /^--cgroup works with the native launcher only \(PROCLAUNCH_LAUNCHER chose systemd/,
    );
  });

  it('the help documents every option', () => {
    for (const option of ['-n, --count', '--name', '--ready', '--ready-timeout', '--tail', '--launcher', '--cgroup DIR', '--timeout', '--deadline', '--grace', '--json', '--help', 'Exit status', '143 after SIGTERM', 'loginctl enable-linger']) {
      expect(RUN_HELP).toContain(option);
    }
  });
});
