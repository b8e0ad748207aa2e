// The cgroup v2 subtree a launcher owns. ROOT (the `cgroup` option) may be shared with
// other launchers, other processes and other applications, so a launcher never kills
// or removes anything in ROOT but its own directory ROOT/proclaunch-<pid>-<random>,
// which holds one leaf per proc.
import { randomBytes } from 'node:crypto';
import { accessSync, constants, mkdirSync, readdirSync, readFileSync, rmdirSync, statfsSync, writeFileSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';

import { ProcLauncherError } from '../contract.js';
import { isUnpopulated } from '../common/cgroup-usage.js';

const CGROUP2_SUPER_MAGIC = 0x63677270;
// A name collision needs the same pid (another pid namespace) and the same 64 random
// bits; a few retries only guard against a directory planted on purpose.
const MAX_OWN_DIR_ATTEMPTS = 8;

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

function codeOf(error: unknown): string | undefined {
  return (error as NodeJS.ErrnoException).code;
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

/** mkdir that reports whether this call made the directory (false: it existed). */
function makeDir(path: string): boolean {
  try {
    mkdirSync(path);
    return true;
  } catch (error) {
    if (codeOf(error) === 'EEXIST') return false;
    throw error;
  }
}

/** One rmdir; true when the directory is gone. A cgroup with children or processes stays (EBUSY). */
function removeDirOnce(path: string): boolean {
  try {
    rmdirSync(path);
    return true;
  } catch (error) {
    return codeOf(error) === 'ENOENT';
  }
}

function subdirsOf(dir: string): string[] {
  try {
    return readdirSync(dir, { withFileTypes: true })
      .filter((entry) => entry.isDirectory())
      .map((entry) => join(dir, entry.name));
  } catch {
    return [];
  }
}

export class CgroupTree {
  /** The `cgroup` option: shared, never killed; removed only if this launcher made it and it is empty. */
  readonly root: string;
  /** ROOT/proclaunch-<pid>-<random>: this launcher's own subtree, the only one it kills or removes. */
  readonly dir: string;
  /** Whether this launcher created ROOT (it did not exist). */
  readonly createdRoot: boolean;
  #nextLeaf = 0;

  /** Checks ROOT (creating it if missing) and creates this launcher's own directory in it. */
  constructor(root: string) {
    if (!isAbsolute(root)) throw new RangeError(`cgroup must be an absolute path, got ${JSON.stringify(root)}`);
    root = resolve(root);
    const parent = dirname(root);
    // ROOT may also be a cgroup2 mount's top (its parent is then not on cgroup2).
    if (!isCgroup2(parent) && !isCgroup2(root)) {
      const mount = findCgroup2Mount();
      throw cgroupError(
        `cgroup ${root}: its parent ${parent} is not on a cgroup v2 mount (cgroup2 ${mount === undefined ? 'is not mounted here' : `is at ${mount}`})`,
        undefined,
        root,
      );
    }
    this.root = root;
    let created = false;
    let dir: string | undefined;
    let rootGone = true;
    for (let attempt = 1; dir === undefined; attempt++) {
      if (rootGone) {
        try {
          // Again after ENOENT: another launcher that created ROOT may remove it (empty)
          // between our mkdir of ROOT and of our own directory; we make it again, and own it.
          created = makeDir(root);
        } catch (error) {
          throw cgroupError(`cannot create cgroup ${root}: ${(error as Error).message}`, error as NodeJS.ErrnoException, root);
        }
        rootGone = false;
      }
      // The pid says who owns it to a human; the random part makes it unique across
      // pid namespaces, threads and launchers of one process, and unguessable.
      const candidate = join(root, `proclaunch-${process.pid}-${randomBytes(8).toString('hex')}`);
      try {
        mkdirSync(candidate);
        dir = candidate;
      } catch (error) {
        const code = codeOf(error);
        rootGone = code === 'ENOENT';
        if ((code === 'EEXIST' || code === 'ENOENT') && attempt < MAX_OWN_DIR_ATTEMPTS) continue;
        if (created) removeDirOnce(root);
        throw cgroupError(`cannot create this launcher's cgroup in ${root}: ${(error as Error).message}`, error as NodeJS.ErrnoException, candidate);
      }
    }
    this.dir = dir;
    this.createdRoot = created;
    try {
      // mkdir succeeding does not prove we may move processes in (delegation rules).
      accessSync(join(dir, 'cgroup.procs'), constants.W_OK);
    } catch (error) {
      this.removeNow();
      throw cgroupError(`cgroup ${root} is not writable: ${(error as Error).message}`, error as NodeJS.ErrnoException, root);
    }
  }

  /** A fresh, empty leaf for one proc, inside this launcher's own directory. */
  createLeaf(procId: string): string {
    const safe = procId.replace(/[^A-Za-z0-9_.@:-]/g, '_').slice(0, 100);
    for (;;) {
      const leaf = join(this.dir, `p${++this.#nextLeaf}-${safe}`);
      try {
        mkdirSync(leaf);
        return leaf;
      } catch (error) {
        const e = error as NodeJS.ErrnoException;
        // Only something running as us could have made it (the name is not guessable
        // from outside); skip it rather than share it.
        if (e.code === 'EEXIST') continue;
        throw new ProcLauncherError('launch', `cannot create cgroup ${leaf}: ${e.message}`, {
          stage: 'cgroup',
          ...(e.code === undefined ? {} : { code: e.code }),
          ...(e.errno === undefined ? {} : { errno: -e.errno }),
          syscall: 'mkdir',
          path: leaf,
        });
      }
    }
  }

  /** Pids in one cgroup, not its descendants (empty when it is gone). */
  pidsIn(dir: string): number[] {
    try {
      return readFileSync(join(dir, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean).map(Number);
    } catch {
      return [];
    }
  }

  /** Pids in a cgroup and in the cgroups a proc may have made below it. */
  pidsInTree(dir: string): number[] {
    return [...this.pidsIn(dir), ...subdirsOf(dir).flatMap((sub) => this.pidsInTree(sub))];
  }

  /** SIGKILL to every process in `dir` and below it (a leaf, or this launcher's directory). */
  kill(dir: string): void {
    this.#checkOwned(dir);
    try {
      writeFileSync(join(dir, 'cgroup.kill'), '1');
    } catch (error) {
      if (codeOf(error) === 'ENOENT' && !this.#exists(dir)) return;
      // No cgroup.kill (kernel < 5.14): signal the members one by one, subtree included.
      this.#killMembers(dir);
    }
  }

  /**
   * Removes a leaf once its last process is gone, deepest first (a proc may have made
   * cgroups of its own in its leaf); false if it stayed busy.
   */
  async removeLeaf(leaf: string, timeoutMs = 2000, onEmpty?: () => void): Promise<boolean> {
    this.#checkOwned(leaf);
    const deadline = Date.now() + timeoutMs;
    const children = await Promise.all(subdirsOf(leaf).map((sub) => this.removeLeaf(sub, timeoutMs)));
    // A child that stayed busy keeps its parent busy: do not wait for it twice.
    if (children.includes(false)) return false;
    let emptySeen = onEmpty === undefined;
    for (let delay = 1; ; delay = Math.min(delay * 2, 50)) {
      // The last chance to read what the dead tree used, while the cgroup still exists.
      if (!emptySeen && isUnpopulated(leaf)) {
        emptySeen = true;
        onEmpty!();
      }
      // Until the tree has been seen empty, no rmdir: one could succeed in the instant the
      // last task left, just after the check above, and the usage would go with the cgroup.
      if (emptySeen || Date.now() > deadline) {
        try {
          rmdirSync(leaf);
          return true;
        } catch (error) {
          const code = codeOf(error);
          if (code === 'ENOENT') return true;
          if (code !== 'EBUSY' || Date.now() > deadline) return false;
        }
      }
      await new Promise((resolve) => setTimeout(resolve, delay));
    }
  }

  /**
   * Kills everything in this launcher's directory and removes it, deepest first, then
   * ROOT if we made it and it is empty. Nothing else in ROOT is touched.
   */
  async dispose(): Promise<void> {
    this.kill(this.dir);
    await this.removeLeaf(this.dir);
    if (this.createdRoot) removeDirOnce(this.root);
  }

  /** For a constructor that fails after this one succeeded: nothing ran in it yet. */
  removeNow(): void {
    for (const sub of subdirsOf(this.dir)) removeDirOnce(sub);
    removeDirOnce(this.dir);
    if (this.createdRoot) removeDirOnce(this.root);
  }

  #killMembers(dir: string): void {
    for (const pid of this.pidsInTree(dir)) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone already
      }
    }
  }

  // The one guard between a bug and killing another application's processes.
  #checkOwned(dir: string): void {
    if (dir !== this.dir && !dir.startsWith(`${this.dir}/`)) {
      throw new Error(`internal error: ${dir} is not in this launcher's cgroup ${this.dir}`);
    }
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
