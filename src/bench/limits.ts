// How many idle procs this machine lets us hold: each native proc holds one fd (its
// pidfd) and every proc one pid. Node already raised the soft fd limit to the hard
// one at startup, so what /proc/self/limits says now is all we can get.
import { readdirSync, readFileSync } from 'node:fs';

import { countOf } from './count-noun.js';

/** Kept free for the bench itself, Node and the short-lived launches. */
const FD_RESERVE = 256;
const PID_RESERVE = 2048;

export function openFdCount(): number {
  return readdirSync('/proc/self/fd').length;
}

export function fdLimit(): number {
  const limits = readFileSync('/proc/self/limits', 'utf8');
  const match = /^Max open files\s+(\d+|unlimited)/m.exec(limits);
  return match === null || match[1] === 'unlimited' ? Number.MAX_SAFE_INTEGER : Number(match[1]);
}

/** The idle-proc count to use (at most `wanted`), with a note when a limit cut it down. */
export function idleCapacity(wanted: number, fdsPerProc: number): { count: number; note: string | null } {
  const byFds = Math.floor((fdLimit() - openFdCount() - FD_RESERVE) / Math.max(1, fdsPerProc));
  const pidMax = Number(readFileSync('/proc/sys/kernel/pid_max', 'utf8'));
  const running = readdirSync('/proc').filter((name) => /^\d+$/.test(name)).length;
  const byPids = pidMax - running - PID_RESERVE;
  const count = Math.max(0, Math.min(wanted, byFds, byPids));
  if (count === wanted) return { count, note: null };
  const why = byFds < byPids ? `the open-file limit (${fdLimit()}; raise it with ulimit -n)` : `kernel.pid_max (${pidMax})`;
  return { count, note: `ran with ${countOf(count, 'idle proc')} instead of ${wanted.toLocaleString('en-US')}: ${why}` };
}
