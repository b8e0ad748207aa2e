// What a cgroup v2 directory says its whole tree used: cpu.stat (always there on cgroup
// v2, with or without the cpu controller) and memory.peak (only with the memory
// controller on, kernel 5.19+). Read after the tree is dead, before the cgroup goes.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import type { ProcTreeUsage } from '../contract.js';

export function readCgroupUsage(dir: string): ProcTreeUsage | undefined {
  let stat: string;
  try {
    stat = readFileSync(join(dir, 'cpu.stat'), 'utf8');
  } catch {
    return undefined;
  }
  const field = (name: string): number | undefined => {
    const match = new RegExp(`^${name} (\\d+)$`, 'm').exec(stat);
    return match === null ? undefined : Number(match[1]);
  };
  const user = field('user_usec');
  const system = field('system_usec');
  if (user === undefined || system === undefined) return undefined;
  const usage: ProcTreeUsage = { cpuMs: (user + system) / 1000, userMs: user / 1000, systemMs: system / 1000 };
  try {
    const peak = Number(readFileSync(join(dir, 'memory.peak'), 'utf8').trim());
    if (Number.isFinite(peak)) usage.peakMemoryKb = Math.round(peak / 1024);
  } catch {
    // No memory controller in this cgroup: no peak to tell.
  }
  return usage;
}

/** Whether nothing runs in the cgroup or below it any more (cgroup.events: populated 0). */
export function isUnpopulated(dir: string): boolean {
  try {
    return /^populated 0$/m.test(readFileSync(join(dir, 'cgroup.events'), 'utf8'));
  } catch {
    return false;
  }
}
