import { accessSync, constants, rmdirSync, readdirSync } from 'node:fs';
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
