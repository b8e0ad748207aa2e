// How busy the whole machine was over a span (the first line of /proc/stat): tells
// whether a throughput figure was bound by the CPU or by waiting.
import { readFileSync } from 'node:fs';

export type MachineCpu = number[];

export function machineCpu(): MachineCpu {
  // "cpu  user nice system idle iowait irq softirq steal ...", in USER_HZ ticks.
  return readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1, 9).map(Number);
}

/** "idle 2%, system 64%, user 34%" between two readings. */
export function describeMachineCpu(before: MachineCpu, after: MachineCpu): string {
  const delta = after.map((value, i) => value - (before[i] ?? 0));
  const total = delta.reduce((sum, value) => sum + value, 0);
  if (total <= 0) return 'not measured (no ticks elapsed)';
  const share = (ticks: number): string => `${Math.round((100 * ticks) / total)}%`;
  const [user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0] = delta;
  return `idle ${share(idle + iowait)}, system ${share(system + irq + softirq)}, user ${share(user + nice)}${steal > 0 ? `, stolen ${share(steal)}` : ''}`;
}
