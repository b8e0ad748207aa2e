import { describe, expect, it } from 'vitest';

import { parseRunArgs, RUN_HELP, UsageError } from '../../src/cli/run-args.js';

describe('proclaunch run arguments', () => {
  it('defaults', () => {
    expect(parseRunArgs(['--', '/bin/echo', 'hi', '--json'])).toEqual({
      count: 1,
      name: 'echo',
      ready: false,
      readyTimeoutMs: 30_000,
      tail: 10,
      launcher: undefined,
      timeoutMs: null,
      graceMs: 5000,
      json: false,
      help: false,
      program: '/bin/echo',
      args: ['hi', '--json'],
    });
  });

  it('every option, in both spellings', () => {
    const args = parseRunArgs(['-n', '4', '--name=w', '--ready-timeout', '900', '--tail=3', '--launcher', 'systemd', '--timeout=100', '--grace', '7', '--json', 'prog', '-x']);
    expect(args).toMatchObject({ count: 4, name: 'w', ready: true, readyTimeoutMs: 900, tail: 3, launcher: 'systemd', timeoutMs: 100, graceMs: 7, json: true });
    expect(args.program).toBe('prog');
    expect(args.args).toEqual(['-x']);
    expect(parseRunArgs(['--count=2', '--ready', '--', 'p']).ready).toBe(true);
    expect(parseRunArgs(['-h']).help).toBe(true);
    expect(parseRunArgs(['--help']).help).toBe(true);
  });

  it('usage errors say what is wrong', () => {
    const cases: Array<[string[], RegExp]> = [
      [[], /missing PROGRAM/],
      [['-n'], /-n needs a value/],
      [['-n', 'two', 'p'], /--count must be a whole number, got "two"/],
      [['-n', '0', 'p'], /--count must be from 1/],
      [['--launcher', 'docker', 'p'], /--launcher must be native or systemd/],
      [['--bogus', 'p'], /unknown option --bogus/],
      [['--json=yes', 'p'], /--json takes no value/],
      [['--timeout', '-5', 'p'], /--timeout must be a whole number/],
    ];
    for (const [argv, message] of cases) {
      expect(() => parseRunArgs(argv)).toThrow(UsageError);
      expect(() => parseRunArgs(argv)).toThrow(message);
    }
  });

  it('the help documents every option', () => {
    for (const option of ['-n, --count', '--name', '--ready', '--ready-timeout', '--tail', '--launcher', '--timeout', '--grace', '--json', '--help', 'Exit status']) {
      expect(RUN_HELP).toContain(option);
    }
  });
});
