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
});
