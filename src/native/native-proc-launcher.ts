// NativeProcLauncher: the launcher contract over the addon (clone + pidfd + pgid).
import type { Readable } from 'node:stream';
import { isMainThread } from 'node:worker_threads';

import {
  ProcLauncherError,
  type LaunchOptions,
  type LaunchResult,
  type ProcExitResult,
  type ProcLauncher,
  type ProcTreeUsage,
  type StdioHandling,
} from '../contract.js';
import { readCgroupUsage } from '../common/cgroup-usage.js';
import { LineTail } from '../common/line-tail.js';
import { normalizeLaunch, type NormalizedLaunch } from '../common/normalize-launch.js';
import { nameOfSignal, resolveSignal } from '../common/signals.js';
import { codeOfErrno, describeErrno } from '../common/system-error.js';
import { checkBoolean, checkKnownKeys, checkProcId, checkString, checkTimeoutMs, describeValue, isPlainObject } from '../common/validate.js';
import { addon, isFailure, onExit, releaseSpawner, useSpawner, type NativeExit, type NativeFailure, type SpawnPlan, type SpawnSuccess } from './addon.js';
import { readableFromFd, teeIntoTail } from './captured-stdio.js';
import { CgroupTree } from './cgroup-tree.js';
import { countGroupMembers } from './group-members.js';
import { checkMemNodes, cpusOfNodes } from './host-numa.js';
import { ParentDeathWatchdog } from './parent-death-watchdog.js';
import { programCandidates } from './program-paths.js';
import { waitAtMost } from '../common/wait-at-most.js';
import { superviseRun } from '../common/run-limits.js';
import { closeAtExit, writableFromFd } from '../common/stdin-stream.js';

export interface NativeProcLauncherOptions {
  /** When a proc's leader exits, SIGKILL what is left of its process group (default: true). */
  killGroupOnExit?: boolean;
  /**
   * Signal the procs get when the launching thread dies, even by SIGKILL
   * (PR_SET_PDEATHSIG), and that they are killed with at process exit; `false` lets
   * them outlive this process (default: 'SIGKILL').
   */
  parentDeathSignal?: string | number | false;
  /** Whether a running proc keeps the Node event loop alive, like child_process (default: true). */
  keepAlive?: boolean;
  /**
   * A cgroup v2 directory ROOT (created if missing), possibly shared with others. The
   * launcher makes its own directory ROOT/proclaunch-<pid>-<random> and gives each proc
   * a cgroup inside it: kill and the terminate escalation then reach descendants that
   * left the process group (setsid), and with `parentDeathSignal` a watchdog kills the
   * launcher's directory if this process dies. Nothing else in ROOT is ever killed or
   * removed; ROOT itself is removed only if this launcher created it and it is empty
   * (default: none).
   */
  cgroup?: string;
}

const OPTION_KEYS = ['killGroupOnExit', 'parentDeathSignal', 'keepAlive', 'cgroup'] as const;
const SIGTERM = 15;
const SIGKILL = 9;

interface LiveProc {
  nativeId: number;
  pid: number;
  leaf: string | undefined;
  escalation: NodeJS.Timeout | undefined;
  escalationDeadline: number;
  exited: boolean;
  exit: Promise<ProcExitResult>;
}

export class NativeProcLauncher implements ProcLauncher {
  readonly #procs = new Map<string, LiveProc>();
  readonly #killGroupOnExit: boolean;
  readonly #parentDeathSignal: number;
  readonly #keepAlive: boolean;
  readonly #cgroups: CgroupTree | undefined;
  readonly #watchdog: ParentDeathWatchdog | undefined;
  readonly #inline = process.env['PROCLAUNCH_SPAWNER'] === 'inline';
  /** Ids whose spawn the server has not answered yet (with what was asked of them meanwhile), and the launches in flight. */
  readonly #starting = new Map<string, { terminateMs: number; kill: boolean }>();
  #usesSpawner = false;
  readonly #launches = new Set<Promise<unknown>>();
  #disposed = false;

  constructor(options: NativeProcLauncherOptions = {}) {
    if (!isPlainObject(options)) throw new TypeError(`NativeProcLauncher options must be an object, got ${describeValue(options)}`);
    checkKnownKeys(options, OPTION_KEYS, 'NativeProcLauncher options');
    this.#killGroupOnExit = checkBoolean(options.killGroupOnExit, 'killGroupOnExit', true);
    this.#keepAlive = checkBoolean(options.keepAlive, 'keepAlive', true);
    const pdeath = options.parentDeathSignal ?? 'SIGKILL';
    this.#parentDeathSignal = pdeath === false ? 0 : resolveSignal(pdeath, 'parentDeathSignal');
    addon(); // load now: a broken build fails at construction, not at the first launch
    if (options.cgroup !== undefined) {
      const cgroups = new CgroupTree(checkString(options.cgroup, 'cgroup', { nonEmpty: true }));
      try {
        if (this.#parentDeathSignal !== 0) this.#watchdog = new ParentDeathWatchdog(cgroups.dir, cgroups.createdRoot);
      } catch (error) {
        // A failed constructor leaves nothing behind: not our directory, not a ROOT we made.
        cgroups.removeNow();
        throw error;
      }
      this.#cgroups = cgroups;
    }
    liveLaunchers.add(this);
  }

  /** Procs launched and not yet exited. */
  get size(): number {
    return this.#procs.size;
  }

  async launch(procId: string, opts: LaunchOptions): Promise<LaunchResult> {
    const launch = normalizeLaunch(procId, opts);
    if (this.#disposed) {
      throw new ProcLauncherError('launch', `cannot launch "${launch.procId}": the launcher is disposed`, { code: 'ERR_DISPOSED', stage: 'validate' });
    }
    if (this.#procs.has(launch.procId)) {
      throw new ProcLauncherError('launch', `cannot launch "${launch.procId}": a proc with this id is still running`, {
        code: 'EEXIST',
        errno: 17,
        stage: 'validate',
      });
    }
    if (this.#starting.has(launch.procId)) {
      throw new ProcLauncherError('launch', `cannot launch "${launch.procId}": a proc with this id is still starting`, {
        code: 'EEXIST',
        errno: 17,
        stage: 'validate',
      });
    }
    this.#starting.set(launch.procId, { terminateMs: Infinity, kill: false });
    const started = this.#start(launch);
    this.#launches.add(started);
    try {
      return await started;
    } finally {
      this.#launches.delete(started);
      this.#starting.delete(launch.procId);
    }
  }

  async #start(launch: NormalizedLaunch): Promise<LaunchResult> {
    const captureStderr = launch.wantStdio || launch.tailLines > 0;
    const plan = this.#planFor(launch, captureStderr);
    const leaf = this.#cgroups?.createLeaf(launch.procId);
    if (leaf !== undefined) {
      plan.cgroup = leaf;
      // The leaf holds the whole group: #reapLeaf counts what outlived the leader, then
      // kills it. A group kill in native first would race that count (a killed member
      // may or may not still be listed).
      plan.killGroupOnExit = false;
    }
    const spawned = await this.#spawn(plan);
    if (isFailure(spawned)) {
      if (leaf !== undefined) void this.#cgroups!.removeLeaf(leaf);
      throw launchError(launch, spawned);
    }

    const startedAt = new Date();
    if (!this.#keepAlive) addon().setWatchRef(spawned.id, false);
    const tail = launch.tailLines > 0 ? new LineTail(launch.tailLines) : null;
    const { stdio, stderrDone } = setUpStdio(spawned, launch.wantStdio, tail);

    const stdin = spawned.stdinFd >= 0 ? writableFromFd(spawned.stdinFd) : null;
    const proc = this.#watchExit(launch.procId, spawned, leaf, tail, stderrDone);
    // The deadline and abort reach this proc only, never a later one with the same id.
    const exit = superviseRun(proc.exit, launch.limits, (graceMs) => this.#terminateProc(proc, graceMs));
    closeAtExit(stdin, proc.exit);
    // terminate/kill/dispose came while the spawn server was starting it: apply them now.
    const early = this.#starting.get(launch.procId);
    this.#starting.delete(launch.procId);
    if (this.#disposed || early?.kill === true) this.#killTree(proc);
    else if (early !== undefined && early.terminateMs !== Infinity) this.#terminateProc(proc, early.terminateMs);
    return { pid: spawned.pid, startedAt, stdio, stdin, exit };
  }

  // The spawn server clones the proc off the event loop (and from a small address space,
  // so its maxrss is its own); PROCLAUNCH_SPAWNER=inline clones on this thread instead.
  async #spawn(plan: SpawnPlan): Promise<SpawnSuccess | NativeFailure> {
    if (this.#inline) return addon().spawn(plan);
    if (!this.#usesSpawner) {
      this.#usesSpawner = true;
      useSpawner();
    }
    return addon().spawnAsync(plan);
  }

  // A method of its own so the exit closure holds only what it needs, not the
  // normalized launch (argv, the environment overlay, from a worker a whole copy of
  // the environment) for the proc's whole life.
  #watchExit(
    procId: string,
    spawned: { id: number; pid: number },
    leaf: string | undefined,
    tail: LineTail | null,
    stderrDone: Promise<void>,
  ): LiveProc {
    let settle!: (result: ProcExitResult) => void;
    const exit = new Promise<ProcExitResult>((resolve) => (settle = resolve));
    const proc: LiveProc = { nativeId: spawned.id, pid: spawned.pid, leaf, escalation: undefined, escalationDeadline: Infinity, exited: false, exit };
    this.#procs.set(procId, proc);
    onExit(spawned.id, (nativeExit) => {
      proc.exited = true;
      if (this.#procs.get(procId) === proc) this.#procs.delete(procId);
      clearTimeout(proc.escalation);
      const result = exitResultOf(nativeExit);
      const orphans = leaf === undefined ? undefined : this.#reapLeaf(leaf, (usage) => (result.treeUsage = usage));
      if (orphans !== undefined) result.orphansKilled = orphans.count;
      else if (this.#killGroupOnExit) result.orphansKilled = nativeExit.groupLeft ? countGroupMembers(spawned.pid) : 0;
      // The group is dead, so stderr reaches EOF right away unless an escaped
      // descendant still holds it: wait briefly for the last lines, never forever.
      const stderrEnded = tail === null ? Promise.resolve() : waitAtMost(stderrDone, 250);
      void Promise.all([stderrEnded, orphans?.removed]).then(() => settle(tail === null ? result : { ...result, stderrTail: tail.lines() }));
    });
    return proc;
  }

  async terminate(procId: string, timeoutMs: number): Promise<void> {
    checkProcId(procId);
    checkTimeoutMs(timeoutMs, 'timeoutMs');
    const proc = this.#procs.get(procId);
    if (proc !== undefined) this.#terminateProc(proc, timeoutMs);
    const early = this.#starting.get(procId);
    if (early !== undefined) early.terminateMs = Math.min(early.terminateMs, timeoutMs);
  }

  #terminateProc(proc: LiveProc, timeoutMs: number): void {
    if (proc.exited) return;
    addon().signal(proc.nativeId, SIGTERM, true);
    // One escalation timer per proc: a second terminate may only bring it forward.
    const deadline = Date.now() + timeoutMs;
    if (deadline >= proc.escalationDeadline) return;
    clearTimeout(proc.escalation);
    proc.escalationDeadline = deadline;
    proc.escalation = setTimeout(() => this.#killTree(proc), timeoutMs);
    proc.escalation.unref();
  }

  async kill(procId: string): Promise<void> {
    checkProcId(procId);
    const proc = this.#procs.get(procId);
    if (proc !== undefined) this.#killTree(proc);
    const early = this.#starting.get(procId);
    if (early !== undefined) early.kill = true;
  }

  /** Kills every proc still running and resolves once every exit has been observed. */
  async dispose(): Promise<void> {
    this.#disposed = true;
    // Launches in flight join #procs (and are killed by launch itself) once answered.
    await Promise.allSettled([...this.#launches]);
    const pending = [...this.#procs.values()];
    for (const proc of pending) this.#killTree(proc);
    await Promise.all(pending.map((proc) => proc.exit));
    if (this.#usesSpawner) {
      this.#usesSpawner = false;
      releaseSpawner();
    }
    await this.#watchdog?.stop();
    await this.#cgroups?.dispose();
    liveLaunchers.delete(this);
  }

  /** SIGKILL to the leader, its group and, with cgroups, everything in its cgroup. */
  #killTree(proc: LiveProc): void {
    addon().signal(proc.nativeId, SIGKILL, true);
    if (proc.leaf !== undefined) this.#cgroups!.kill(proc.leaf);
  }

  /** After the leader's exit: kill what is left in its cgroup (counted), then remove it. */
  // treeUsage comes from the leaf's cpu.stat once the tree is dead and before the leaf
  // goes; a tree left running (killGroupOnExit false) has no final figure to give.
  #reapLeaf(leaf: string, onUsage: (usage: ProcTreeUsage) => void): { count: number; removed: Promise<boolean> } | undefined {
    const cgroups = this.#cgroups!;
    const left = cgroups.pidsInTree(leaf).length;
    if (!this.#killGroupOnExit && left > 0) return { count: 0, removed: Promise.resolve(false) };
    if (left > 0) cgroups.kill(leaf);
    const readUsage = (): void => {
      const usage = readCgroupUsage(leaf);
      if (usage !== undefined) onUsage(usage);
    };
    return { count: left, removed: cgroups.removeLeaf(leaf, undefined, readUsage) };
  }

  static {
    // Procs must not outlive the process that launched them (unless parentDeathSignal
    // is false): on exit no async work runs any more, so kill synchronously here.
    process.once('exit', () => {
      for (const launcher of liveLaunchers) launcher.#killAllNow();
    });
  }

  #killAllNow(): void {
    if (this.#parentDeathSignal === 0) return;
    for (const proc of this.#procs.values()) this.#killTree(proc);
  }

  #planFor(launch: NormalizedLaunch, captureStdio: boolean): SpawnPlan {
    const bind = launch.procBind;
    let cpus: number[] | null = bind?.cpus ?? null;
    if (bind?.cpuNodes !== undefined) {
      const nodeCpus = cpusOfNodes(bind.cpuNodes);
      cpus = cpus === null ? nodeCpus : cpus.filter((cpu) => nodeCpus.includes(cpu));
      if (cpus.length === 0) throw new RangeError('opts.procBind: no CPU is both in cpus and in the cpunodebind nodes');
    }
    if (bind?.memNodes !== undefined) checkMemNodes(bind.memNodes);
    return {
      paths: programCandidates(launch.program, { PATH: launch.envOverlay['PATH'] ?? process.env['PATH'] }),
      argv: [launch.arg0, ...launch.args],
      // The main thread's process.env is the real environ, which native reads directly;
      // a worker's process.env is a private copy, so it is sent whole.
      ...(isMainThread
        ? { env: entriesOf(launch.envOverlay), inheritEnviron: true, envRemove: launch.envRemove }
        : { env: entriesOf(launch.env), inheritEnviron: false, envRemove: [] }),
      cwd: launch.cwd ?? null,
      captureStdio,
      killGroupOnExit: this.#killGroupOnExit,
      killOnTeardown: this.#parentDeathSignal !== 0,
      parentDeathSignal: this.#parentDeathSignal,
      cpus,
      memNodes: bind?.memNodes ?? null,
      cgroup: null,
      stdin: launch.stdin === 'pipe' ? 2 : launch.stdin === 'inherit' ? 1 : 0,
      rlimits: launch.rlimits.length === 0 ? null : launch.rlimits.flatMap((l) => [l.resource, limitValue(l.soft), limitValue(l.hard)]),
      newSession: launch.newSession,
    };
  }
}

const liveLaunchers = new Set<NativeProcLauncher>();

/** RLIM_INFINITY crosses the binding as -1. */
function limitValue(limit: number): number {
  return limit === Infinity ? -1 : limit;
}

function entriesOf(env: Readonly<Record<string, string>>): string[] {
  return Object.entries(env).map(([key, value]) => `${key}=${value}`);
}

function setUpStdio(
  spawned: { stdoutFd: number; stderrFd: number },
  wantStdio: boolean,
  tail: LineTail | null,
): { stdio: StdioHandling; stderrDone: Promise<void> } {
  if (spawned.stderrFd < 0) return { stdio: { kind: 'inherited' }, stderrDone: Promise.resolve() };
  const stderrSource = readableFromFd(spawned.stderrFd);
  const stdout = readableFromFd(spawned.stdoutFd);
  if (tail === null) {
    return { stdio: { kind: 'captured', stdout, stderr: stderrSource }, stderrDone: Promise.resolve() };
  }
  if (!wantStdio) {
    // Only the tail was asked for: stdout goes where it would have gone, stderr is copied.
    stdout.pipe(process.stdout, { end: false });
    const { ended } = teeIntoTail(stderrSource, tail, process.stderr);
    return { stdio: { kind: 'inherited' }, stderrDone: ended };
  }
  const { userStream, ended } = teeIntoTail(stderrSource, tail, null);
  return { stdio: { kind: 'captured', stdout, stderr: userStream as Readable }, stderrDone: ended };
}

function exitResultOf(exit: NativeExit): ProcExitResult {
  const rusage = { userMs: exit.userMs, systemMs: exit.systemMs, maxRssKb: exit.maxRssKb };
  if (exit.kind === 0) return { kind: 'exited', code: exit.status, rusage };
  if (exit.kind === 1) {
    return { kind: 'signaled', signal: exit.status, signalName: nameOfSignal(exit.status), coreDumped: exit.coreDumped, rusage };
  }
  return { kind: 'failed', reason: `exit status lost: the proc was reaped by someone else (${codeOfErrno(exit.status)})` };
}

function launchError(launch: NormalizedLaunch, failure: NativeFailure): ProcLauncherError {
  const code = codeOfErrno(failure.errno);
  const path = failure.stage === 'chdir' ? launch.cwd : failure.stage === 'exec' ? launch.program : undefined;
  const where = path === undefined ? '' : ` '${path}'`;
  const message = `cannot launch "${launch.procId}": ${code}: ${describeErrno(failure.errno)}, ${failure.syscall}${where} (stage: ${failure.stage})`;
  return new ProcLauncherError('launch', message, {
    code,
    errno: failure.errno,
    syscall: failure.syscall,
    stage: failure.stage,
    ...(path === undefined ? {} : { path }),
  });
}

