// Pure functions of the systemd backend: no manager needed.
import { createHash } from 'node:crypto';

import { describe, expect, it } from 'vitest';

import { exitResultOf, startFailureOf } from '../../src/systemd/unit-exit.js';
import { HASH_MARK, checkUnitPrefix, unitNameOf, unitObjectPath } from '../../src/systemd/unit-name.js';
import { bitmask } from '../../src/systemd/unit-spec.js';

const VALID_UNIT = /^[A-Za-z0-9:_.\\-]+\.service$/;

describe('unit names', () => {
  it('are stable, keep plain characters and escape the rest per UTF-8 byte', () => {
    expect(unitNameOf('proclaunch-', 'worker-0')).toBe('proclaunch-worker-0.service');
    expect(unitNameOf('proclaunch-', 'worker-0')).toBe(unitNameOf('proclaunch-', 'worker-0'));
    expect(unitNameOf('p-', 'a/b c@d\\é')).toBe('p-a\\x2fb\\x20c\\x40d\\x5c\\xc3\\xa9.service');
  });

  it('are distinct for distinct ids, including ids that look escaped', () => {
    const ids = ['a b', 'a\\x20b', 'a_b', 'a-b', 'a.b', 'A b'];
    const names = new Set(ids.map((id) => unitNameOf('p-', id)));
    expect(names.size).toBe(ids.length);
  });

  it('stay within 255 characters, cut whole escapes and end in a hash of the full id', () => {
    for (const id of ['x'.repeat(300), 'é'.repeat(200), `${'x'.repeat(244)}é`]) {
      const name = unitNameOf('proclaunch-', id);
      expect(name.length).toBeLessThanOrEqual(255);
      expect(name).toMatch(VALID_UNIT);
      expect(name).toMatch(/\\-[0-9a-f]{16}\.service$/);
      // No escape is cut in half before the hash mark.
      expect(name).not.toMatch(/(\\|\\x|\\x[0-9a-f])\\-[0-9a-f]{16}\.service$/);
    }
    expect(unitNameOf('p-', `${'x'.repeat(300)}1`)).not.toBe(unitNameOf('p-', `${'x'.repeat(300)}2`));
  });

  it('keep cut (hashed) names out of the plain names\' space: the collision of issue #9 is gone', () => {
    // Before: a cut name was `<prefix><cut escaped id>-<hash>`, which the plain id
    // `<cut escaped id>-<hash>` also got, so a second proc could take the first one's unit.
    const prefix = 'proclaunch-';
    const long = 'x'.repeat(300);
    const room = 255 - '.service'.length - prefix.length;
    const oldTwin = `${'x'.repeat(room - 17)}-${createHash('sha256').update(long).digest('hex').slice(0, 16)}`;
    expect(`${prefix}${oldTwin}.service`.length).toBe(255);
    expect(unitNameOf(prefix, oldTwin)).toBe(`${prefix}${oldTwin}.service`);
    expect(unitNameOf(prefix, long)).not.toBe(unitNameOf(prefix, oldTwin));
    expect(unitNameOf(prefix, long)).toContain(HASH_MARK);
    expect(unitNameOf(prefix, oldTwin)).not.toContain(HASH_MARK);
  });

  it('are injective and in disjoint spaces over a fuzzed set of ids (plain, escaped, cut, look-alikes)', () => {
    // xorshift32, seeded: the same ids on every run.
    let state = 42;
    const random = (n: number): number => {
      state ^= state << 13;
      state ^= state >>> 17;
      state ^= state << 5;
      return (state >>> 0) % n;
    };
    const pieces = ['x', '-', '\\', '\\x', '\\x2d', '\\-', 'a', 'f', '0', '9', '.', ':', '_', ' ', 'é', '\n', '@', '/', '%'];
    const ids = new Set<string>();
    while (ids.size < 5_000) {
      const length = [1, 5, 60, 230, 240, 250, 400][random(7)]!;
      let id = '';
      while (id.length < length) id += pieces[random(pieces.length)];
      ids.add(id);
    }
    // Look-alikes of every cut name: its body as an id, verbatim and with the mark as "-".
    for (const id of [...ids]) {
      const body = unitNameOf('p-', id).slice(2, -'.service'.length);
      if (body.includes(HASH_MARK)) ids.add(body).add(body.replace(HASH_MARK, '-'));
    }
    const owner = new Map<string, string>();
    const bad: string[] = [];
    let cut = 0;
    for (const id of ids) {
      const name = unitNameOf('p-', id);
      if (name.length > 255 || !VALID_UNIT.test(name)) bad.push(`invalid: ${name}`);
      const body = name.slice(2, -'.service'.length);
      // Plain names only ever have `\xNN` after a backslash; cut ones have exactly one `\-`, before the hash.
      const stray = body.replace(/\\x[0-9a-f]{2}/g, '');
      const isCut = body.includes(HASH_MARK);
      if (isCut) cut++;
      if (isCut ? !/^[^\\]*\\-[0-9a-f]{16}$/.test(stray) : stray.includes('\\')) bad.push(`stray backslash: ${name}`);
      if (owner.has(name)) bad.push(`collision: ${JSON.stringify(owner.get(name))} and ${JSON.stringify(id)} -> ${name}`);
      owner.set(name, id);
    }
    expect(bad).toEqual([]);
    expect(owner.size).toBe(ids.size);
    expect(cut).toBeGreaterThan(1_000);
    expect(ids.size).toBeGreaterThan(5_000);
  });

  it('reject prefixes that would break names', () => {
    expect(checkUnitPrefix('ok-prefix:1.')).toBe('ok-prefix:1.');
    expect(() => checkUnitPrefix('with space')).toThrow(RangeError);
    expect(() => checkUnitPrefix('at@')).toThrow(RangeError);
    expect(() => checkUnitPrefix(3)).toThrow(TypeError);
  });

  it('map to systemd object paths', () => {
    expect(unitObjectPath('pl-exp-c.service')).toBe('/org/freedesktop/systemd1/unit/pl_2dexp_2dc_2eservice');
    expect(unitObjectPath('0a.service')).toBe('/org/freedesktop/systemd1/unit/_30a_2eservice');
    expect(unitObjectPath('a\\x20b.service')).toBe('/org/freedesktop/systemd1/unit/a_5cx20b_2eservice');
  });
});

describe('exit statuses', () => {
  it('map ExecMainCode and ExecMainStatus to the contract', () => {
    expect(exitResultOf({ code: 1, status: 7 }, 'u')).toEqual({ kind: 'exited', code: 7 });
    expect(exitResultOf({ code: 2, status: 15 }, 'u')).toEqual({ kind: 'signaled', signal: 15, signalName: 'SIGTERM', coreDumped: false });
    expect(exitResultOf({ code: 3, status: 11 }, 'u')).toEqual({ kind: 'signaled', signal: 11, signalName: 'SIGSEGV', coreDumped: true });
    expect(exitResultOf({ code: 0, result: 'resources' }, 'u')).toEqual({
      kind: 'failed',
      reason: 'unit u stopped without an exit status of its program (Result=resources)',
    });
  });

  it('tell a failed start from a program that ended quickly', () => {
    expect(startFailureOf({ code: 1, status: 203, result: 'exit-code' }, 'u', 'id', 'failed')).toMatchObject({ code: 'ERR_SYSTEMD_EXEC', stage: 'exec' });
    expect(startFailureOf({ code: 1, status: 200 }, 'u', 'id', 'failed')).toMatchObject({ code: 'ERR_SYSTEMD_CHDIR', stage: 'chdir' });
    expect(startFailureOf({ code: 1, status: 7 }, 'u', 'id', 'failed')).toBeNull();
    expect(startFailureOf({ code: 2, status: 9 }, 'u', 'id', 'failed')).toBeNull();
    expect(startFailureOf({ code: 0, result: 'resources' }, 'u', 'id', 'failed')).toMatchObject({ code: 'ERR_SYSTEMD_START', stage: 'start' });
  });

  it('encode CPU and node sets as systemd bitmasks', () => {
    expect([...bitmask([0])]).toEqual([1]);
    expect([...bitmask([1, 3, 8])]).toEqual([0b1010, 0b1]);
  });
});
