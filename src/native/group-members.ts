// Counting what was left of a process group. The kernel has no cheap count, so this
// reads /proc, and only runs after the addon saw (kill(-pgid, 0)) that something was.
import { readdirSync } from 'node:fs';

import { readProcStat } from '../common/proc-stat.js';

/** Processes whose process group is `pgid` (zombies included), or at least 1 if they are already gone. */
export function countGroupMembers(pgid: number): number {
  let count = 0;
  for (const name of readdirSync('/proc')) {
    const first = name.charCodeAt(0);
    if (first < 48 || first > 57) continue;
    if (readProcStat(name)?.pgrp === pgid) count++;
  }
  // The kernel said a member existed: if init reaped it before we looked, still count it.
  return Math.max(1, count);
}
