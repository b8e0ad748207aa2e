import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { accessSync, constants, mkdirSync, readdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { findCgroup2Mount } from '../../src/native/cgroup-tree.js';

/**
 * A fresh cgroup path for a test's launcher, or why there is none. Under CI=true a
 * missing cgroup2 is a failure, never a skip.
 */
export function testCgroupRoot(name: string): { path: string } | { skip: string } {
  const mount = findCgroup2Mount();
  if (mount === undefined) {
    const why = 'cgroup v2 is not mounted at /sys/fs/cgroup or /sys/fs/cgroup/unified';
    if (process.env['CI'] === 'true') throw new Error(`CI requires cgroup v2: ${why}`);
    console.warn(`skipping cgroup tests: ${why}`);
    return { skip: why };
  }
  try {
    accessSync(mount, constants.W_OK);
  } catch {
    const why = `${mount} is not writable by this user (creating cgroups needs root or a delegated subtree)`;
    if (process.env['CI'] === 'true') throw new Error(`CI requires a writable cgroup v2 hierarchy: ${why}`);
    console.warn(`skipping cgroup tests: ${why}`);
    return { skip: why };
  }
  return { path: join(mount, `proclaunch-test-${name}-${process.pid}`) };
}

/** Removes a leftover test cgroup tree (leaves first). Test clean-up only. */
export function removeCgroupTree(path: string): void {
  try {
    for (const entry of readdirSync(path, { withFileTypes: true })) {
      if (entry.isDirectory()) removeCgroupTree(join(path, entry.name));
    }
    rmdirSync(path);
  } catch {
    // already gone
  }
}

/** The cgroup v2 path of a process, relative to the cgroup2 mount ('/a/b'). */
export function cgroupOf(pid: number): string {
  return readFileSync(`/proc/${pid}/cgroup`, 'utf8').trim().split('\n').find((line) => line.startsWith('0::'))!.slice(3);
}

/** The directory a process's cgroup v2 is, on this host's cgroup2 mount. */
export function cgroupDirOf(pid: number): string {
  return join(findCgroup2Mount()!, cgroupOf(pid));
}

/** Names of the cgroups directly below `dir`, sorted (empty when it is gone). */
export function subCgroups(dir: string): string[] {
  try {
    return readdirSync(dir, { withFileTypes: true })
      .filter((entry) => entry.isDirectory())
      .map((entry) => entry.name)
      .sort();
  } catch {
    return [];
  }
}

export interface ForeignProc {
  pid: number;
  /** SIGKILL by pid (we started it) and wait for its exit. */
  stop(): Promise<void>;
}

/**
 * "Another application": a sleep we start ourselves and move into `dir` (created if
 * missing), to prove a launcher sharing the root leaves it alone.
 */
export async function startForeignProc(dir: string): Promise<ForeignProc> {
  mkdirSync(dir, { recursive: true });
  const child = spawn('/bin/sleep', ['100000'], { stdio: 'ignore' });
  await once(child, 'spawn');
  const pid = child.pid!;
  const exited = once(child, 'exit');
  try {
    writeFileSync(join(dir, 'cgroup.procs'), String(pid));
  } catch (error) {
    child.kill('SIGKILL');
    await exited;
    throw error;
  }
  return {
    pid,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
  };
}

/**
 * `/bin/sh -c` text for a proc that makes cgroups of its own in its leaf
 * (LEAF/nested/deeper), moves a sleep there and prints the sleep's pid; then it
 * waits, or with `exit` leaves the sleep behind and exits 0.
 */
export function nestedCgroupScript(then: 'wait' | 'exit'): string {
  const mount = findCgroup2Mount()!;
  return [
    `d="${mount}$(sed -n 's/^0:://p' /proc/self/cgroup)/nested/deeper"`,
    'mkdir -p "$d" || exit 3',
    '/bin/sleep 100000 &',
    'echo $! > "$d/cgroup.procs" || exit 4',
    'echo $!',
    then === 'wait' ? 'wait' : 'exit 0',
  ].join('\n');
}
