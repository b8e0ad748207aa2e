import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import { ProcLauncherError } from '../../src/contract.js';
import { normalizeLaunch } from '../../src/common/normalize-launch.js';

const expectedErrors = [TypeError, RangeError, ProcLauncherError];

describe('normalizeLaunch', () => {
  it('never crashes on arbitrary input: it returns or throws one of the documented errors', () => {
    const launchLike = fc.record(
      {
        command: fc.oneof(
          fc.record(
            {
              program: fc.oneof(fc.string(), fc.constant('/bin/true'), fc.anything()),
              args: fc.oneof(fc.array(fc.string()), fc.anything()),
              arg0: fc.anything(),
              env: fc.oneof(fc.dictionary(fc.string(), fc.string()), fc.anything()),
              cwd: fc.anything(),
            },
            { requiredKeys: [] },
          ),
          fc.anything(),
        ),
        bootstrapPayload: fc.anything(),
        processName: fc.anything(),
        logChannel: fc.anything(),
        wantStdio: fc.anything(),
        tailLines: fc.anything(),
        procBind: fc.oneof(fc.record({ cpus: fc.string(), cpunodebind: fc.string(), membind: fc.string(), physcpubind: fc.string() }, { requiredKeys: [] }), fc.anything()),
      },
      { requiredKeys: [] },
    );
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.anything()), fc.oneof(launchLike, fc.anything(), fc.object()), (procId, opts) => {
        try {
          const normalized = normalizeLaunch(procId, opts, {});
          expect(typeof normalized.program).toBe('string');
          expect(normalized.env['HYPERACTOR_PROCESS_NAME']).toBeTypeOf('string');
        } catch (error) {
          expect(expectedErrors.some((cls) => error instanceof cls), String(error)).toBe(true);
          expect((error as Error).message.length).toBeGreaterThan(0);
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('never lets a NUL byte through', () => {
    fc.assert(
      fc.property(fc.string(), fc.string(), (before, after) => {
        const withNul = `${before}\0${after}`;
        expect(() => normalizeLaunch('id', { command: { program: '/bin/true', args: [withNul] } }, {})).toThrow(ProcLauncherError);
      }),
    );
  });

  it('rejects every sparse args array, naming the first hole', () => {
    fc.assert(
      fc.property(fc.sparseArray(fc.string(), { minNumElements: 0, maxLength: 20 }).filter((a) => Object.keys(a).length < a.length), (args) => {
        let firstHole = 0;
        while (firstHole in args) firstHole++;
        expect(() => normalizeLaunch('id', { command: { program: '/bin/true', args } }, {})).toThrow(
          new TypeError(`opts.command.args[${firstHole}] is a hole: sparse arrays are not accepted`),
        );
      }),
    );
  });

  it('turns whatever a getter or Proxy trap throws into a TypeError naming the option', () => {
    class Trap extends Error {}
    const trap = (): never => {
      throw new Trap('trap');
    };
    const hostile = fc.constantFrom(
      () => new Proxy({}, { get: trap }),
      () => new Proxy({ program: '/bin/true', cpus: '0' }, { get: trap }),
      () => new Proxy({}, { ownKeys: trap }),
      () => new Proxy({}, { getPrototypeOf: trap }),
      () => new Proxy({ program: '/bin/true' }, { getOwnPropertyDescriptor: trap }),
      () => new Proxy(['a'], { get: trap }),
      () => new Proxy(['a'], { has: trap }),
      () => Object.defineProperty(['a', 'b'], 0, { get: trap }),
      () => Object.defineProperty({}, 'x', { get: trap, enumerable: true }),
      () => {
        const { proxy, revoke } = Proxy.revocable({}, {});
        revoke();
        return proxy;
      },
    );
    // Where in the options the hostile value goes.
    const places: Array<[string, (v: unknown) => unknown]> = [
      ['opts', (v) => v],
      ['opts.command', (v) => ({ command: v })],
      ['opts.command.args', (v) => ({ command: { program: '/bin/true', args: v } })],
      ['opts.command.env', (v) => ({ command: { program: '/bin/true', env: v } })],
      ['opts.procBind', (v) => ({ command: { program: '/bin/true' }, procBind: v })],
    ];
    let thrown = 0;
    fc.assert(
      fc.property(hostile, fc.constantFrom(...places), (make, [option, place]) => {
        let caught: unknown;
        try {
          normalizeLaunch('id', place(make()), {});
        } catch (error) {
          caught = error;
        }
        // A trap that is never reached (a get trap on an empty target) throws nothing.
        if (caught === undefined) return;
        thrown++;
        expect(caught).toBeInstanceOf(TypeError);
        expect((caught as Error).message).toContain(option);
      }),
    );
    expect(thrown).toBeGreaterThan(0);
  });
});
