// The end of a run: summary table, JSON report, exit status. A copy that was still
// running when the run was interrupted (or hit --timeout) is "stopped", whatever its
// exit code: it did not finish its work, so it never counts as a success.
import type { ProcStatus } from '../manager/proc-status.js';
import { detailOf, exitOf, formatDuration, hasHosts, hostCell, renderColumns, runTimeOf, type ProcRow, type StopCause } from './status-table.js';

export type InterruptSignal = 'SIGINT' | 'SIGTERM';

/** How the run as a whole ended, beyond its rows. */
export interface RunEnding {
  /** Copies asked for (-n): rows may be fewer when the run was stopped while starting them. */
  requested: number;
  /** The first interrupt received, or null. */
  interruptedBy: InterruptSignal | null;
  /** Whether --timeout stopped the run. */
  timedOut: boolean;
}

export interface JsonProcReport {
  procId: string;
  pid: number | null;
  /** Present when the copy ran on a named host (a multi-host launcher: slurm). */
  host?: string;
  runMs: number;
  status: ProcStatus;
  /** Present when the copy was still running when the run was interrupted or hit --timeout. */
  stoppedBy?: StopCause;
}

const SIGNAL_NUMBERS: Record<InterruptSignal, number> = { SIGINT: 2, SIGTERM: 15 };

export function isSuccess(row: ProcRow): boolean {
  return row.stoppedBy === undefined && row.status.state === 'stopped' && row.status.exitCode === 0;
}

/** 0 when every proc exited with code 0 on its own; 128 + signal when interrupted (130, 143); 1 otherwise. */
export function exitStatusOf(rows: readonly ProcRow[], interruptedBy: InterruptSignal | null): number {
  if (interruptedBy !== null) return 128 + SIGNAL_NUMBERS[interruptedBy];
  return rows.length > 0 && rows.every(isSuccess) ? 0 : 1;
}

export function summaryLines(rows: readonly ProcRow[], now: number, ending: RunEnding = { requested: rows.length, interruptedBy: null, timedOut: false }): string[] {
  const withHosts = hasHosts(rows);
  const table = renderColumns([
    ['ID', ...(withHosts ? ['HOST'] : []), 'STATE', 'EXIT', 'TIME', 'NOTE'],
    ...rows.map((row) => [row.procId, ...hostCell(row, withHosts), row.status.state, exitOf(row.status), formatDuration(runTimeOf(row, now)), noteOf(row)]),
  ]);
  const lines = [...table];
  for (const row of rows) {
    if (isSuccess(row) || !('stderrTail' in row.status) || row.status.stderrTail.length === 0) continue;
    const tail = row.status.stderrTail;
    lines.push('', `${row.procId}: last ${tail.length} stderr line${tail.length === 1 ? '' : 's'}:`, ...tail.map((line) => `  ${line}`));
  }
  lines.push('', countLine(rows, ending));
  return lines;
}

/** "3 procs: 1 succeeded, 2 did not", or "interrupted by SIGINT: 3 procs: 1 succeeded, 2 stopped". */
export function countLine(rows: readonly ProcRow[], ending: RunEnding): string {
  const ok = rows.filter(isSuccess).length;
  const stopped = rows.filter((row) => row.stoppedBy !== undefined).length;
  const notOk = rows.length - ok - stopped;
  const notStarted = Math.max(0, ending.requested - rows.length);
  const parts = [`${ok} succeeded`];
  if (notOk > 0 || (stopped === 0 && notStarted === 0)) parts.push(`${notOk} did not`);
  if (stopped > 0) parts.push(`${stopped} stopped`);
  if (notStarted > 0) parts.push(`${notStarted} not started`);
  const total = rows.length + notStarted;
  const why = ending.interruptedBy !== null ? `interrupted by ${ending.interruptedBy}: ` : ending.timedOut ? '--timeout reached: ' : '';
  return `${why}${total} proc${total === 1 ? '' : 's'}: ${parts.join(', ')}`;
}

export function jsonReport(rows: readonly ProcRow[], now: number): JsonProcReport[] {
  return rows.map((row) => ({
    procId: row.procId,
    pid: row.pid,
    ...(typeof row.host === 'string' ? { host: row.host } : {}),
    runMs: Math.round(runTimeOf(row, now)),
    status: row.status,
    ...(row.stoppedBy === undefined ? {} : { stoppedBy: row.stoppedBy }),
  }));
}

function noteOf(row: ProcRow): string {
  const detail = detailOf(row.status);
  if (row.stoppedBy === undefined) return detail;
  const cause = row.stoppedBy === 'timeout' ? 'stopped at --timeout' : row.stoppedBy === 'deadline' ? 'stopped at --deadline' : `stopped by ${row.stoppedBy}`;
  return detail === '' ? cause : `${cause}; ${detail}`;
}
