import { describe, expect, it } from 'vitest';

import { countLine, exitStatusOf, jsonReport, summaryLines } from '../../src/cli/run-summary.js';
import { formatDuration, liveTableLines, transitionLine, type ProcRow } from '../../src/cli/status-table.js';

const startedAt = new Date(1000);
const rows: ProcRow[] = [
  { procId: 'w-0', pid: 11, status: { state: 'stopped', exitCode: 0, stderrTail: ['fine'] }, startedAt: 1000, endedAt: 3500 },
  { procId: 'w-1', pid: 12, status: { state: 'stopped', exitCode: 2, stderrTail: ['bad input', 'giving up'] }, startedAt: 1000, endedAt: 1250 },
  { procId: 'w-2', pid: 13, status: { state: 'killed', signal: 11, signalName: 'SIGSEGV', coreDumped: true, stderrTail: [] }, startedAt: 1000, endedAt: 62_000 },
  { procId: 'w-3', pid: 14, status: { state: 'failed', reason: 'not ready within 100 ms', stderrTail: ['loading'] }, startedAt: 1000, endedAt: 1100 },
];

describe('run output formatting', () => {
  it('durations', () => {
    expect(formatDuration(0)).toBe('0.00s');
    expect(formatDuration(1234)).toBe('1.23s');
    expect(formatDuration(12_345)).toBe('12.3s');
    expect(formatDuration(61_000)).toBe('1m01s');
    expect(formatDuration(3_726_000)).toBe('1h02m');
  });

  it('summary: state, exit code or signal, run time, and the last stderr lines of failures', () => {
    expect(summaryLines(rows, 99_999)).toEqual([
      'ID   STATE    EXIT     TIME   NOTE',
      'w-0  stopped  0        2.50s',
      'w-1  stopped  2        0.25s',
      'w-2  killed   SIGSEGV  1m01s  core dumped',
      'w-3  failed   -        0.10s  not ready within 100 ms',
      '',
      'w-1: last 2 stderr lines:',
      '  bad input',
      '  giving up',
      '',
      'w-3: last 1 stderr line:',
      '  loading',
      '',
      '4 procs: 1 succeeded, 3 did not',
    ]);
  });

  it('exit status: 0 only when every proc exited 0; 130 after SIGINT, 143 after SIGTERM', () => {
    expect(exitStatusOf(rows.slice(0, 1), null)).toBe(0);
    expect(exitStatusOf(rows, null)).toBe(1);
    expect(exitStatusOf(rows.slice(0, 1), 'SIGINT')).toBe(130);
    expect(exitStatusOf(rows.slice(0, 1), 'SIGTERM')).toBe(143);
    expect(exitStatusOf([], null)).toBe(1);
    // Exit code 0 after the run's own SIGTERM is not a success: the copy was cut short.
    expect(exitStatusOf([{ ...rows[0]!, stoppedBy: 'timeout' }], null)).toBe(1);
  });

  it('an interrupted run never counts the copies it stopped as succeeded', () => {
    const stopped: ProcRow[] = [
      rows[0]!,
      { procId: 'w-1', pid: 12, status: { state: 'stopped', exitCode: 0, stderrTail: [] }, startedAt: 1000, endedAt: 5000, stoppedBy: 'SIGINT' },
      { procId: 'w-2', pid: 13, status: { state: 'killed', signal: 15, signalName: 'SIGTERM', coreDumped: false, stderrTail: ['bye'] }, startedAt: 1000, endedAt: 5000, stoppedBy: 'SIGINT' },
    ];
    const ending = { requested: 5, interruptedBy: 'SIGINT' as const, timedOut: false };
    expect(summaryLines(stopped, 99_999, ending)).toEqual([
      'ID   STATE    EXIT     TIME   NOTE',
      'w-0  stopped  0        2.50s',
      'w-1  stopped  0        4.00s  stopped by SIGINT',
      'w-2  killed   SIGTERM  4.00s  stopped by SIGINT',
      '',
      'w-2: last 1 stderr line:',
      '  bye',
      '',
      'interrupted by SIGINT: 5 procs: 1 succeeded, 2 stopped, 2 not started',
    ]);
    expect(countLine(stopped.slice(1), { requested: 2, interruptedBy: 'SIGTERM', timedOut: false })).toBe('interrupted by SIGTERM: 2 procs: 0 succeeded, 2 stopped');
    expect(countLine([rows[1]!, { ...stopped[1]!, stoppedBy: 'timeout' }], { requested: 2, interruptedBy: null, timedOut: true })).toBe('--timeout reached: 2 procs: 0 succeeded, 1 did not, 1 stopped');
    expect(countLine(rows.slice(0, 1), { requested: 1, interruptedBy: null, timedOut: false })).toBe('1 proc: 1 succeeded, 0 did not');
    expect(jsonReport(stopped.slice(1, 2), 0)).toEqual([{ procId: 'w-1', pid: 12, runMs: 4000, status: stopped[1]!.status, stoppedBy: 'SIGINT' }]);
    expect(summaryLines([{ ...stopped[1]!, stoppedBy: 'timeout' }], 0)[1]).toBe('w-1  stopped  0     4.00s  stopped at --timeout');
  });

  it('JSON report', () => {
    expect(jsonReport(rows.slice(1, 2), 0)).toEqual([{ procId: 'w-1', pid: 12, runMs: 250, status: rows[1]!.status }]);
  });

  it('live table and transition lines', () => {
    const live: ProcRow[] = [
      { procId: 'a-0', pid: 7, status: { state: 'ready', pid: 7, startedAt, statusText: 'serving', addr: 'tcp://h:1' }, startedAt: 1000, endedAt: null },
      { procId: 'a-1', pid: null, status: { state: 'starting' }, startedAt: null, endedAt: null },
      { procId: 'a-2', pid: 9, status: { state: 'stopped', exitCode: 1, stderrTail: [] }, startedAt: 1000, endedAt: 2000 },
    ];
    expect(liveTableLines(live, 4000)).toEqual([
      'ID   PID  STATE        TIME   INFO',
      'a-0  7    ready        3.00s  serving, addr tcp://h:1',
      'a-1  -    starting     0.00s',
      'a-2  9    stopped (1)  1.00s',
    ]);
    expect(liveTableLines(live, 4000, 2)).toEqual(['ID   PID  STATE  TIME   INFO', 'a-0  7    ready  3.00s  serving, addr tcp://h:1', '… 2 more (1 ready, 1 starting, 1 stopped)']);
    expect(transitionLine(live[0]!)).toBe('proclaunch: a-0 ready pid 7 (serving, addr tcp://h:1)');
    expect(transitionLine(live[2]!)).toBe('proclaunch: a-2 stopped exit code 1');
    expect(transitionLine(rows[2]!)).toBe('proclaunch: w-2 killed signal SIGSEGV (core dumped)');
  });
});
