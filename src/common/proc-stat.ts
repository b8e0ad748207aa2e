// One process's /proc/<pid>/stat, the fields this package looks at.
import { readFileSync } from 'node:fs';

export interface ProcStatFields {
  state: string;
  ppid: number;
  pgrp: number;
  session: number;
}

/** The fields, or null when the process is gone. A zombie still has them. */
export function readProcStat(pid: number | string): ProcStatFields | null {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'latin1');
  } catch {
    return null;
  }
  // comm may hold spaces and parentheses: the fields start after the last ')'.
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ', 4);
  return { state: fields[0]!, ppid: Number(fields[1]), pgrp: Number(fields[2]), session: Number(fields[3]) };
}
