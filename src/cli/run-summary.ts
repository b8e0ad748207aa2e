// The end of a run: summary table, JSON report, exit status.
import type { ProcStatus } from '../manager/proc-status.js';
import { detailOf, exitOf, formatDuration, renderColumns, runTimeOf, type ProcRow } from './status-table.js';

export interface JsonProcReport {
  procId: string;
  pid: number | null;
  runMs: number;
  status: ProcStatus;
}

export function isSuccess(status: ProcStatus): boolean {
  return status.state === 'stopped' && status.exitCode === 0;
}

/** 0 when every proc exited with code 0; 130 when interrupted; 1 otherwise. */
export function exitStatusOf(rows: readonly ProcRow[], interrupted: boolean): number {
  if (interrupted) return 130;
  return rows.length > 0 && rows.every((row) => isSuccess(row.status)) ? 0 : 1;
}

export function summaryLines(rows: readonly ProcRow[], now: number): string[] {
  const table = renderColumns([
    ['ID', 'STATE', 'EXIT', 'TIME', 'NOTE'],
    ...rows.map((row) => [row.procId, row.status.state, exitOf(row.status), formatDuration(runTimeOf(row, now)), detailOf(row.status)]),
  ]);
  const lines = [...table];
  for (const row of rows) {
    if (isSuccess(row.status) || !('stderrTail' in row.status) || row.status.stderrTail.length === 0) continue;
    const tail = row.status.stderrTail;
    lines.push('', `${row.procId}: last ${tail.length} stderr line${tail.length === 1 ? '' : 's'}:`, ...tail.map((line) => `  ${line}`));
  }
  const ok = rows.filter((row) => isSuccess(row.status)).length;
  lines.push('', `${rows.length} proc${rows.length === 1 ? '' : 's'}: ${ok} succeeded, ${rows.length - ok} did not`);
  return lines;
}

export function jsonReport(rows: readonly ProcRow[], now: number): JsonProcReport[] {
  return rows.map((row) => ({ procId: row.procId, pid: row.pid, runMs: Math.round(runTimeOf(row, now)), status: row.status }));
}
