import { describe, expect, it } from 'vitest';

import { isLegalTransition, isTerminalState, type ProcState, type ProcStatus } from '../../src/manager/proc-status.js';
import { StatusMachine } from '../../src/manager/status-machine.js';

const startedAt = new Date(0);
const sample: Record<ProcState, ProcStatus> = {
  starting: { state: 'starting' },
  running: { state: 'running', pid: 10, startedAt },
  ready: { state: 'ready', pid: 10, startedAt, statusText: 'up' },
  stopping: { state: 'stopping', pid: 10, startedAt },
  stopped: { state: 'stopped', exitCode: 0, stderrTail: ['bye'] },
  killed: { state: 'killed', signal: 9, signalName: 'SIGKILL', coreDumped: false, stderrTail: [] },
  failed: { state: 'failed', reason: 'nope', stderrTail: [] },
};
const STATES = Object.keys(sample) as ProcState[];
const LEGAL: Record<ProcState, ProcState[]> = {
  starting: ['running', 'ready', 'stopping', 'stopped', 'killed', 'failed'],
  running: ['ready', 'stopping', 'stopped', 'killed', 'failed'],
  ready: ['stopping', 'stopped', 'killed', 'failed'],
  stopping: ['stopped', 'killed', 'failed'],
  stopped: [],
  killed: [],
  failed: [],
};

/** A machine driven into `state` through legal steps. */
function machineIn(state: ProcState): StatusMachine {
  const path: Record<ProcState, ProcState[]> = {
    starting: [],
    running: ['running'],
    ready: ['running', 'ready'],
    stopping: ['running', 'stopping'],
    stopped: ['stopped'],
    killed: ['killed'],
    failed: ['failed'],
  };
  const machine = new StatusMachine();
  for (const step of path[state]) expect(machine.advance(sample[step])).toBe(true);
  expect(machine.current.state).toBe(state);
  return machine;
}

describe('status machine', () => {
  for (const from of STATES) {
    for (const to of STATES) {
      const legal = LEGAL[from].includes(to);
      it(`${from} → ${to} is ${legal ? 'legal' : 'refused'}`, () => {
        expect(isLegalTransition(from, to)).toBe(legal);
        const machine = machineIn(from);
        const before = machine.current;
        const historyBefore = machine.history.length;
        expect(machine.advance(sample[to])).toBe(legal);
        if (legal) {
          expect(machine.current).toEqual(sample[to]);
          expect(machine.history.length).toBe(historyBefore + 1);
        } else {
          // Refused: nothing changed, not even the snapshot's identity.
          expect(machine.current).toBe(before);
          expect(machine.history.length).toBe(historyBefore);
        }
      });
    }
  }

  it('terminal states absorb everything', () => {
    for (const terminal of STATES.filter(isTerminalState)) {
      const machine = machineIn(terminal);
      for (const to of STATES) expect(machine.advance(sample[to])).toBe(false);
      expect(machine.current.state).toBe(terminal);
    }
  });

  it('streams every transition in order, from the first, to late and early readers alike', async () => {
    const machine = new StatusMachine();
    const early = (async () => {
      const seen: string[] = [];
      for await (const status of machine.stream()) seen.push(status.state);
      return seen;
    })();
    // Several transitions in one synchronous burst: none may be coalesced.
    machine.advance(sample.running);
    machine.advance(sample.ready);
    machine.advance(sample.stopping);
    machine.advance(sample.killed);
    expect(await early).toEqual(['starting', 'running', 'ready', 'stopping', 'killed']);
    const late: string[] = [];
    for await (const status of machine.stream()) late.push(status.state);
    expect(late).toEqual(['starting', 'running', 'ready', 'stopping', 'killed']);
  });

  it('resolves terminal once, with the terminal status', async () => {
    const machine = machineIn('running');
    machine.advance(sample.stopped);
    machine.advance(sample.failed);
    expect(await machine.terminal).toEqual(sample.stopped);
  });

  it('refresh replaces the snapshot in the same state without adding a transition', () => {
    const machine = machineIn('ready');
    expect(machine.refresh({ state: 'ready', pid: 10, startedAt, statusText: 'busy' })).toBe(true);
    expect(machine.current).toMatchObject({ state: 'ready', statusText: 'busy' });
    expect(machine.history.map((status) => status.state)).toEqual(['starting', 'running', 'ready']);
    expect(machine.history[2]).toMatchObject({ statusText: 'up' });
    expect(machine.refresh(sample.stopping)).toBe(false);
    expect(machine.current.state).toBe('ready');
  });

  it('snapshots are frozen', () => {
    const machine = machineIn('stopped');
    const status = machine.current as Extract<ProcStatus, { state: 'stopped' }>;
    expect(Object.isFrozen(status)).toBe(true);
    expect(Object.isFrozen(status.stderrTail)).toBe(true);
  });
});
