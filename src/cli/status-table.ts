// Pure formatting of proc rows: the live table, one-line transitions, durations.
import type { ProcStatus } from '../manager/proc-status.js';

/** Why the run stopped a copy that was still running: an interrupt, or --timeout. */
export type StopCause = 'SIGINT' | 'SIGTERM' | 'timeout' | 'deadline';

export interface ProcRow {
  procId: string;
  pid: number | null;
  /** Where the copy runs, for a multi-host launcher (slurm); null: this machine. */
  host?: string | null;
  status: ProcStatus;
  /** When the launcher reported the start (ms since the epoch). */
  startedAt: number | null;
  /** When the terminal status was seen. */
  endedAt: number | null;
  /** Set when the run stopped this copy (it had not ended when the interrupt or --timeout came). */
  stoppedBy?: StopCause;
}

export function formatDuration(ms: number): string {
  if (ms < 60_000) return `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)}s`;
  const seconds = Math.floor(ms / 1000);
  if (seconds < 3600) return `${Math.floor(seconds / 60)}m${String(seconds % 60).padStart(2, '0')}s`;
  return `${Math.floor(seconds / 3600)}h${String(Math.floor(seconds / 60) % 60).padStart(2, '0')}m`;
}

export function runTimeOf(row: ProcRow, now: number): number {
  if (row.startedAt === null) return 0;
  return Math.max(0, (row.endedAt ?? now) - row.startedAt);
}

/** The exit code or signal, for the EXIT column. */
export function exitOf(status: ProcStatus): string {
  if (status.state === 'stopped') return String(status.exitCode);
  if (status.state === 'killed') return status.signalName;
  return '-';
}

/** The free-text column: status text and address while ready, reason of a failure, core dumps. */
export function detailOf(status: ProcStatus): string {
  switch (status.state) {
    case 'ready':
      return [status.statusText, status.addr === undefined ? undefined : `addr ${status.addr}`].filter((part) => part !== undefined).join(', ');
    case 'failed':
      return status.reason;
    case 'killed':
      return status.coreDumped ? 'core dumped' : '';
    default:
      return '';
  }
}

/** Left-aligned columns, two spaces apart; the last column is not padded. */
export function renderColumns(rows: readonly (readonly string[])[]): string[] {
  const widths: number[] = [];
  for (const row of rows) row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, cell.length)));
  return rows.map((row) =>
    row
      .map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd(),
  );
}

/** True when some row runs on a named host: the tables then get a HOST column (none for a single-host run). */
export function hasHosts(rows: readonly ProcRow[]): boolean {
  return rows.some((row) => typeof row.host === 'string');
}

/** The HOST cell, or nothing when the table has no HOST column. */
export function hostCell(row: ProcRow, withHosts: boolean): string[] {
  return withHosts ? [row.host ?? '-'] : [];
}

export function liveTableLines(rows: readonly ProcRow[], now: number, maxRows = Infinity): string[] {
  const shown = rows.length > maxRows ? rows.slice(0, Math.max(0, maxRows - 1)) : rows;
  const withHosts = hasHosts(rows);
  const lines = renderColumns([
    ['ID', ...(withHosts ? ['HOST'] : []), 'PID', 'STATE', 'TIME', 'INFO'],
    ...shown.map((row) => [
      row.procId,
      ...hostCell(row, withHosts),
      row.pid === null ? '-' : String(row.pid),
      row.status.state === 'stopped' || row.status.state === 'killed' ? `${row.status.state} (${exitOf(row.status)})` : row.status.state,
      formatDuration(runTimeOf(row, now)),
      detailOf(row.status),
    ]),
  ]);
  if (shown.length < rows.length) lines.push(`… ${rows.length - shown.length} more (${countByState(rows)})`);
  return lines;
}

/** "3 running, 1 stopped" */
export function countByState(rows: readonly ProcRow[]): string {
  const counts = new Map<string, number>();
  for (const row of rows) counts.set(row.status.state, (counts.get(row.status.state) ?? 0) + 1);
  return [...counts].map(([state, count]) => `${count} ${state}`).join(', ');
}

/** One line per transition, for a log or a pipe. */
export function transitionLine(row: ProcRow): string {
  const parts = [`proclaunch: ${row.procId} ${row.status.state}`];
  if (row.status.state === 'running' || row.status.state === 'ready') {
    parts.push(`pid ${row.pid ?? '-'}`);
    if (typeof row.host === 'string') parts.push(`on ${row.host}`);
  }
  if (row.status.state === 'stopped') parts.push(`exit code ${row.status.exitCode}`);
  if (row.status.state === 'killed') parts.push(`signal ${row.status.signalName}`);
  const detail = row.status.state === 'killed' ? (row.status.coreDumped ? 'core dumped' : '') : detailOf(row.status);
  if (detail !== '') parts.push(`(${detail})`);
  return parts.join(' ');
}
