// The status machine against a model written straight from DESIGN.md's transition list.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import type { ProcStatus } from '../../src/manager/proc-status.js';
import { StatusMachine } from '../../src/manager/status-machine.js';

type State = ProcStatus['state'];
const STATES: State[] = ['starting', 'running', 'ready', 'stopping', 'stopped', 'killed', 'failed'];
const TERMINAL = new Set<State>(['stopped', 'killed', 'failed']);

/** DESIGN.md: starting→running|ready|stopping|terminal; running→ready|stopping|terminal; ready→stopping|terminal; stopping→terminal. */
function modelAllows(from: State, to: State): boolean {
  if (TERMINAL.has(from)) return false;
  const next: Record<string, State[]> = {
    starting: ['running', 'ready', 'stopping'],
    running: ['ready', 'stopping'],
    ready: ['stopping'],
    stopping: [],
  };
  return TERMINAL.has(to) || next[from]!.includes(to);
}

function statusOf(state: State, i: number): ProcStatus {
  const startedAt = new Date(0);
  switch (state) {
    case 'starting':
      return { state };
    case 'running':
    case 'stopping':
      return { state, pid: i + 2, startedAt };
    case 'ready':
      return { state, pid: i + 2, startedAt, statusText: `s${i}` };
    case 'stopped':
      return { state, exitCode: i % 256, stderrTail: [`line ${i}`] };
    case 'killed':
      return { state, signal: 9, signalName: 'SIGKILL', coreDumped: false, stderrTail: [] };
    case 'failed':
      return { state, reason: `reason ${i}`, stderrTail: [] };
  }
}

describe('StatusMachine (property)', () => {
  it('follows the model for any sequence of requested transitions', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.constantFrom(...STATES), { maxLength: 30 }), async (requested) => {
        const machine = new StatusMachine();
        const stream = machine.stream();
        let modelState: State = 'starting';
        const modelHistory: State[] = ['starting'];
        requested.forEach((state, i) => {
          const allowed = modelAllows(modelState, state);
          expect(machine.advance(statusOf(state, i))).toBe(allowed);
          if (allowed) {
            modelState = state;
            modelHistory.push(state);
          }
          // A refused transition changes nothing.
          expect(machine.current.state).toBe(modelState);
        });
        expect(machine.history.map((s) => s.state)).toEqual(modelHistory);
        expect(machine.isTerminal).toBe(TERMINAL.has(modelState));
        if (TERMINAL.has(modelState)) {
          // The stream replays every transition in order, none coalesced, and ends.
          const seen: State[] = [];
          for await (const status of stream) seen.push(status.state);
          expect(seen).toEqual(modelHistory);
          expect((await machine.terminal).state).toBe(modelState);
        }
      }),
      { numRuns: 500 },
    );
  });
});
