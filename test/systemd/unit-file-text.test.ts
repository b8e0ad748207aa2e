// Pure functions: what may reach a transient unit file, and the routing index that a refused
// launch can never disturb. No manager needed.
import { describe, expect, it } from 'vitest';

import { newLiveUnit } from '../../src/systemd/live-unit.js';
import { checkExecPath, checkUnitFilePath, describeProcId, escapeDollars } from '../../src/systemd/unit-file-text.js';
import { UnitIndex } from '../../src/systemd/unit-index.js';
import { UnitWatch } from '../../src/systemd/unit-watch.js';

/** What can end a line, join two lines or be stripped in a unit file. */
const LINE_BREAKING = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]|\\$|\s$/u;

describe('Description text', () => {
  it('keeps readable ids as they are', () => {
    expect(describeProcId('worker-0')).toBe('proclaunch: worker-0');
    expect(describeProcId('a b/c@d %n $X "q\' ü')).toBe('proclaunch: a b/c@d %n $X "q\' ü');
  });

  it('escapes controls, separators, backslashes and a trailing blank', () => {
    expect(describeProcId('job-42\n[Service]\nExecStopPost=/bin/id\n')).toBe('proclaunch: job-42\\x0a[Service]\\x0aExecStopPost=/bin/id\\x0a');
    expect(describeProcId('a\\')).toBe('proclaunch: a\\x5c');
    expect(describeProcId('cr\r tab\t nel\u0085 ls\u2028 del\u007f end ')).toBe('proclaunch: cr\\x0d tab\\x09 nel\\x85 ls\\u2028 del\\x7f end\\x20');
    expect(describeProcId('lone \ud800 surrogate')).toBe('proclaunch: lone \\ud800 surrogate');
  });

  it('never yields a line break, a trailing "\\" or blank, whatever the id (fuzzed), and stays short', () => {
    const alphabet = ['a', ' ', '\\', '\n', '\r', '\t', '\u2028', '\u0085', '%', '\ud800', 'é', '🙂', '\u0000'];
    let state = 7;
    const bad: string[] = [];
    for (let i = 0; i < 3_000; i++) {
      let id = '';
      const length = 1 + (i % 260);
      for (let j = 0; j < length; j++) {
        state = (Math.imul(state, 1103515245) + 12345) >>> 0;
        id += alphabet[state % alphabet.length];
      }
      const text = describeProcId(id);
      if (LINE_BREAKING.test(text) || [...text].length > 'proclaunch: '.length + 201) bad.push(JSON.stringify(id));
    }
    expect(bad).toEqual([]);
  });
});

describe('paths written raw into a unit file', () => {
  it('accepts ordinary and odd-but-safe paths', () => {
    for (const path of ['/tmp/a', '/tmp/with space/x', '/tmp/%n/$X/;/"\'', '/tmp/back\\slash/x']) {
      expect(checkUnitFilePath(path, 'opts.command.cwd')).toBe(path);
    }
  });

  it('rejects line breaks, controls, trailing blanks and a trailing "\\", naming the option', () => {
    for (const path of ['/tmp/a\nb', '/tmp/a\rb', '/tmp/a\u2028b', '/tmp/a\u0001', '/tmp/a ', '/tmp/a\t', '/tmp/tab\tinside', '/tmp/a\\', '/tmp/\ud800']) {
      expect(() => checkUnitFilePath(path, 'opts.command.cwd')).toThrow(RangeError);
      expect(() => checkUnitFilePath(path, 'opts.command.cwd')).toThrow(/^opts\.command\.cwd /);
    }
  });

  it('rejects executable paths systemd refuses when it re-reads the unit', () => {
    expect(checkExecPath('/usr/bin/with space %n', 'opts.command.program')).toBe('/usr/bin/with space %n');
    for (const path of ['/bin/a"b', "/bin/a'b", '/bin/a\\b', '/bin/a$b', '/bin/a;b', '/bin/a\nb', '/bin/a\u007fb']) {
      expect(() => checkExecPath(path, 'opts.command.program')).toThrow(/^opts\.command\.program resolves to /);
    }
  });

  it('doubles "$" for ExecStart=, which expands $NAME at exec', () => {
    expect(escapeDollars('$HOME ${X} $$ plain')).toBe('$$HOME $${X} $$$$ plain');
  });
});

describe('the unit index', () => {
  const unitOf = (procId: string, name: string) => newLiveUnit(procId, new UnitWatch(name, `/unit/${name}`), 0);

  it('never lets a second unit of the same name replace the first', () => {
    const index = new UnitIndex();
    const first = unitOf('first', 'u.service');
    const second = unitOf('second', 'u.service');
    expect(index.add(first)).toBe(true);
    expect(index.add(second)).toBe(false);
    index.remove(second);
    expect(index.named('u.service')).toBe(first);
    expect(index.at('/unit/u.service')).toBe(first);
    index.remove(first);
    expect(index.named('u.service')).toBeUndefined();
    expect(index.add(second)).toBe(true);
  });
});
