// How busy the whole machine was over a span (the first line of /proc/stat): tells
// whether a throughput figure was bound by the CPU or by waiting.
import { readFileSync } from 'node:fs';

export type MachineCpu = number[];

export function machineCpu(): MachineCpu {
  // "cpu  user nice system idle iowait irq softirq steal ...", in USER_HZ ticks.
  return readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1, 9).map(Number);
}

/** The share of the machine's CPU time that was idle (iowait included) between two readings; null when no tick elapsed. */
export function idleShare(before: MachineCpu, after: MachineCpu): number | null {
  const delta = after.map((value, i) => value - (before[i] ?? 0));
  const total = delta.reduce((sum, value) => sum + value, 0);
  if (total <= 0) return null;
  return ((delta[3] ?? 0) + (delta[4] ?? 0)) / total;
}
