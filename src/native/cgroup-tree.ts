// The cgroup v2 subtree a launcher owns: one parent directory, one leaf per proc.
// Only directories this launcher created are ever killed or removed.
import { accessSync, constants, mkdirSync, readdirSync, readFileSync, rmdirSync, statfsSync, writeFileSync } from 'node:fs';
import { dirname, isAbsolute, join } from 'node:path';

import { ProcLauncherError } from '../contract.js';

const CGROUP2_SUPER_MAGIC = 0x63677270;

function cgroupError(message: string, cause?: NodeJS.ErrnoException, path?: string): ProcLauncherError {
  return new ProcLauncherError('other', message, {
    stage: 'cgroup',
    ...(cause?.code === undefined ? { code: 'ENOTSUP' } : { code: cause.code }),
    ...(cause?.errno === undefined ? {} : { errno: -cause.errno }),
    ...(cause?.syscall === undefined ? {} : { syscall: cause.syscall }),
    ...(path === undefined ? {} : { path }),
    ...(cause === undefined ? {} : { cause }),
  });
}

function isCgroup2(path: string): boolean {
  try {
    return statfsSync(path).type === CGROUP2_SUPER_MAGIC;
  } catch {
    return false;
  }
}

/** Where cgroup2 is mounted on this host, for error messages and defaults. */
export function findCgroup2Mount(): string | undefined {
  for (const candidate of ['/sys/fs/cgroup', '/sys/fs/cgroup/unified']) if (isCgroup2(candidate)) return candidate;
  return undefined;
}

export class CgroupTree {
  readonly root: string;
  readonly #createdRoot: boolean;
  #nextLeaf = 0;

  /** Checks (and if needed creates) `root`, a directory on a cgroup2 mount we may write. */
  constructor(root: string) {
    if (!isAbsolute(root)) throw new RangeError(`cgroup must be an absolute path, got ${JSON.stringify(root)}`);
    const mount = findCgroup2Mount();
    if (!isCgroup2(dirname(root))) {
      throw cgroupError(
        `cgroup ${root}: its parent ${dirname(root)} is not on a cgroup v2 mount (cgroup2 ${mount === undefined ? 'is not mounted here' : `is at ${mount}`})`,
        undefined,
        root,
      );
    }
    let created = false;
    try {
      mkdirSync(root);
      created = true;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') {
        throw cgroupError(`cannot create cgroup ${root}: ${(error as Error).message}`, error as NodeJS.ErrnoException, root);
      }
    }
    this.#createdRoot = created;
    this.root = root;
    try {
      accessSync(join(root, 'cgroup.procs'), constants.W_OK);
      // Prove we can create leaves: the access check alone does not see delegation rules.
      const probe = join(root, `.probe-${process.pid}`);
      mkdirSync(probe);
      rmdirSync(probe);
    } catch (error) {
      if (created) rmdirSync(root);
      throw cgroupError(`cgroup ${root} is not writable: ${(error as Error).message}`, error as NodeJS.ErrnoException, root);
    }
  }

  /** A fresh, empty leaf for one proc. */
  createLeaf(procId: string): string {
    const safe = procId.replace(/[^A-Za-z0-9_.@:-]/g, '_').slice(0, 100);
    const leaf = join(this.root, `p${++this.#nextLeaf}-${safe}`);
    try {
      mkdirSync(leaf);
    } catch (error) {
      const e = error as NodeJS.ErrnoException;
      throw new ProcLauncherError('launch', `cannot create cgroup ${leaf}: ${e.message}`, {
        stage: 'cgroup',
        ...(e.code === undefined ? {} : { code: e.code }),
        ...(e.errno === undefined ? {} : { errno: -e.errno }),
        syscall: 'mkdir',
        path: leaf,
      });
    }
    return leaf;
  }

  /** Pids in a leaf (empty when it is gone). */
  pidsIn(leaf: string): number[] {
    try {
      return readFileSync(join(leaf, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean).map(Number);
    } catch {
      return [];
    }
  }

  /** SIGKILL to every process of a leaf (or the whole tree), escaped descendants included. */
  kill(dir: string = this.root): void {
    try {
      writeFileSync(join(dir, 'cgroup.kill'), '1');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT' && !this.#exists(dir)) return;
      // No cgroup.kill (kernel < 5.14): signal the members one by one.
      for (const pid of this.pidsIn(dir)) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // gone already
        }
      }
    }
  }

  /** Removes a leaf once its last process is gone; false if it stayed busy. */
  async removeLeaf(leaf: string, timeoutMs = 2000): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    for (let delay = 1; ; delay = Math.min(delay * 2, 50)) {
      try {
        rmdirSync(leaf);
        return true;
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        if (code === 'ENOENT') return true;
        if (code !== 'EBUSY' || Date.now() > deadline) return false;
      }
      await new Promise((resolve) => setTimeout(resolve, delay));
    }
  }

  /** Kills everything left in the tree and removes the leaves (and the root if we made it). */
  async dispose(): Promise<void> {
    this.kill();
    let leaves: string[] = [];
    try {
      leaves = readdirSync(this.root, { withFileTypes: true })
        .filter((entry) => entry.isDirectory())
        .map((entry) => join(this.root, entry.name));
    } catch {
      return;
    }
    await Promise.all(leaves.map((leaf) => this.removeLeaf(leaf)));
    if (this.#createdRoot) await this.removeLeaf(this.root);
  }

  get createdRoot(): boolean {
    return this.#createdRoot;
  }

  #exists(dir: string): boolean {
    try {
      accessSync(dir);
      return true;
    } catch {
      return false;
    }
  }
}
