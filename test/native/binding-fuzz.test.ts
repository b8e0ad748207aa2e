// Property test of the raw addon: every binding called with arbitrary values (missing
// arguments, wrong types, holes, throwing getters, Proxies, huge lengths, out-of-range
// and non-finite numbers, plausible-but-wrong plans) in a child Node process, which
// must never die: not by a signal, not by abort (134), not by a sanitizer report. The
// child (binding-fuzz-child.mjs) checks each call returns or throws TypeError/RangeError.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

import { liveChildren, zombieChildren } from '../helpers/proc-table.js';

const childScript = resolve(import.meta.dirname, 'binding-fuzz-child.mjs');
// A few seconds on the shared 2-core machine; FUZZ_RUNS / FUZZ_SEED replay or widen a run.
const runs = Number(process.env['FUZZ_RUNS'] ?? 3000);
const seed = Number(process.env['FUZZ_SEED'] ?? Math.floor(Math.random() * 2 ** 31));
const scratch = mkdtempSync(join(tmpdir(), 'proclaunch-binding-fuzz-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

interface FuzzReport {
  cases: number;
  perBinding: Record<string, number>;
  unknownBindings: string[];
  outcomes: { returned: number; failureObject: number; TypeError: number; RangeError: number; propagated: number; namedBinding: number };
  unexpected: string[];
  unexpectedCount: number;
  failure: string | null;
  spawned: number;
  exits: number;
  callbackThrows: number;
  fdsBefore: number;
  fdsAfter: number;
  leftover: number[];
}

function runChild(): Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }> {
  const workDir = mkdtempSync(join(scratch, 'work-'));
  const child = spawn(process.execPath, [childScript], {
    cwd: workDir,
    env: {
      ...process.env,
      FUZZ_RUNS: String(runs),
      FUZZ_SEED: String(seed),
      FUZZ_REPORT: join(scratch, 'report.json'),
      FUZZ_LAST: join(scratch, 'last-call.txt'),
      FUZZ_DIR: workDir,
    },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  return new Promise((done) => child.on('close', (code, signal) => done({ code, signal, stderr })));
}

describe('raw binding fuzz', () => {
  it(`no call aborts or corrupts the process (${runs} cases, seed ${seed})`, { timeout: 600_000 }, async () => {
    const { code, signal, stderr } = await runChild();
    const lastCall = (() => {
      try {
        return readFileSync(join(scratch, 'last-call.txt'), 'utf8');
      } catch {
        return '(none)';
      }
    })();
    const context = `seed ${seed}; last call: ${lastCall}\n${stderr.slice(-4000)}`;
    expect(signal, context).toBeNull();
    expect(code, context).toBe(0);
    expect(stderr, context).not.toMatch(/AddressSanitizer|runtime error:|UndefinedBehaviorSanitizer|FATAL ERROR/);

    const report = JSON.parse(readFileSync(join(scratch, 'report.json'), 'utf8')) as FuzzReport;
    console.log(
      `binding-fuzz: ${report.cases} cases (seed ${seed}) over ${Object.keys(report.perBinding).length} bindings; ` +
        `${report.outcomes.TypeError} TypeError, ${report.outcomes.RangeError} RangeError, ${report.outcomes.propagated} trap exceptions propagated, ` +
        `${report.outcomes.returned} returned, ${report.outcomes.failureObject} failure objects; ${report.spawned} procs spawned and reaped, ` +
        `${report.callbackThrows} throwing callbacks survived`,
    );
    expect(report.failure, report.unexpected.join('\n')).toBeNull();
    expect(report.unexpected).toEqual([]);
    expect(report.cases).toBe(runs);
    // Every binding was reached (one added without its own generator gets generic misuse),
    // and every kind of outcome happened.
    const known = ['awaitBarrierSync', 'closeNotifySocket', 'makePipe', 'openNotifySocket', 'sendNotify', 'sendWithFds', 'setCallbacks', 'setWatchRef', 'signal', 'spawn', 'spawnAsync', 'stopSpawner'];
    expect(Object.keys(report.perBinding).sort()).toEqual([...known, ...report.unknownBindings].sort());
    if (report.unknownBindings.length > 0) console.log(`binding-fuzz: fuzzed generically (no generator yet): ${report.unknownBindings.join(', ')}`);
    expect(report.outcomes.TypeError).toBeGreaterThan(0);
    expect(report.outcomes.RangeError).toBeGreaterThan(0);
    expect(report.outcomes.propagated).toBeGreaterThan(0);
    expect(report.outcomes.namedBinding).toBeGreaterThan(0);
    expect(report.spawned).toBeGreaterThan(0);
    // Callbacks that throw (an exit and a notify message at least) left the child alive.
    expect(report.callbackThrows).toBeGreaterThanOrEqual(2);
    // Nothing the fuzzed calls made is left: procs reaped, fds closed.
    expect(report.leftover).toEqual([]);
    expect(report.exits).toBe(report.spawned);
    expect(report.fdsAfter).toBe(report.fdsBefore);
    expect(zombieChildren()).toEqual([]);
    expect(liveChildren()).toEqual([]);
  });
});
