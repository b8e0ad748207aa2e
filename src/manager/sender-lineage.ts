// Who sent an sd_notify datagram, relative to a proc. Read from /proc while the sender
// is still alive (at receipt: systemd-notify and our helper wait in a barrier), and kept
// as a snapshot so a message that arrives before the proc's pid is known can be judged later.
import { readProcStat } from '../common/proc-stat.js';

export interface SenderLineage {
  pid: number;
  /** Session id of the sender: a native proc and a systemd service's main process lead their own session. */
  session: number;
  /** The sender, its parent, grandparent … up to (excluding) pid 1. */
  ancestors: number[];
}

const MAX_DEPTH = 64;

/** The sender's session and parent chain, or null when it is gone (so it cannot be verified). */
export function readSenderLineage(pid: number): SenderLineage | null {
  if (!Number.isInteger(pid) || pid <= 0) return null;
  const self = readProcStat(pid);
  if (self === null) return null;
  const ancestors = [pid];
  let parent = self.ppid;
  while (parent > 1 && ancestors.length < MAX_DEPTH) {
    ancestors.push(parent);
    const stat = readProcStat(parent);
    if (stat === null) break;
    parent = stat.ppid;
  }
  return { pid, session: self.session, ancestors };
}

/**
 * True when the sender was `procPid` itself or one of its descendants: in the session
 * the proc leads (a pid cannot be reused while it names a live session), or with the
 * proc in its parent chain.
 */
export function isFromProcTree(lineage: SenderLineage, procPid: number): boolean {
  return lineage.session === procPid || lineage.ancestors.includes(procPid);
}
