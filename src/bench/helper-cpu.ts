// The CPU time of our own helper processes (the spawn server): a launcher that hands
// work to another process must be charged for it, or its own figure would flatter it.
import { readdirSync, readFileSync } from 'node:fs';

/** The kernel truncates a process's comm to 15 characters. */
const SPAWN_SERVER_COMM = 'proclaunch-spawner'.slice(0, 15);
/** /proc/<pid>/stat counts CPU in USER_HZ ticks, 100 a second on Linux. */
const MS_PER_TICK = 10;

export interface HelperCpu {
  /** The helpers' pids, sorted: a reading is comparable with another only for the same set. */
  pids: number[];
  /** Their user + system CPU time so far. */
  cpuMs: number;
}

/** The spawn servers among this process's children and the CPU they have used so far. */
export function spawnServerCpu(parent = process.pid): HelperCpu {
  const pids: number[] = [];
  let cpuMs = 0;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue; // gone meanwhile
    }
    // "pid (comm) state ppid ... utime stime ...": comm may hold spaces and parentheses.
    const close = stat.lastIndexOf(')');
    const comm = stat.slice(stat.indexOf('(') + 1, close);
    const fields = stat.slice(close + 2).split(' ');
    if (comm !== SPAWN_SERVER_COMM || Number(fields[1]) !== parent) continue;
    pids.push(Number(entry));
    cpuMs += (Number(fields[11]) + Number(fields[12])) * MS_PER_TICK;
  }
  return { pids: pids.sort((a, b) => a - b), cpuMs };
}

/** The helpers' CPU between two readings, or null when the set of helpers changed. */
export function helperCpuBetween(before: HelperCpu, after: HelperCpu): number | null {
  if (before.pids.join() !== after.pids.join()) return null;
  return after.cpuMs - before.cpuMs;
}
