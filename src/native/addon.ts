// Loads the C++ addon once per environment (main thread or worker) and routes its two
// callbacks, exit and notify, to whoever registered the id.
import { resolve } from 'node:path';

import { assertLinux } from '../common/platform.js';
import { addonDirectory, loadAddonBinary } from './addon-path.js';

export interface SpawnPlan {
  paths: string[];
  argv: string[];
  /** "KEY=VALUE" entries: the whole environment, or with inheritEnviron what overrides it. */
  env: string[];
  /** Take the process's own environ, minus envRemove and the keys of `env`, then `env`. */
  inheritEnviron: boolean;
  envRemove: string[];
  cwd: string | null;
  captureStdio: boolean;
  killGroupOnExit: boolean;
  killOnTeardown: boolean;
  parentDeathSignal: number;
  cpus: number[] | null;
  memNodes: number[] | null;
  /** A cgroup v2 directory to start the proc in (CLONE_INTO_CGROUP). */
  cgroup: string | null;
  /** fd 0: 0 /dev/null, 1 inherited, 2 a pipe (its write end comes back as stdinFd). */
  stdin?: 0 | 1 | 2 | null;
  /** [resource, soft, hard] triples (RLIMIT_*; -1 = unlimited), set just before exec; null: none. */
  rlimits?: number[] | null;
  /** setsid() in the child instead of setpgid(0, 0); absent: a process group only. */
  newSession?: boolean | null;
}

export interface NativeFailure {
  errno: number;
  stage: string;
  syscall: string;
}

export interface SpawnSuccess {
  id: number;
  pid: number;
  stdoutFd: number;
  stderrFd: number;
  /** The write end of the stdin pipe, or -1. */
  stdinFd: number;
}

/** kind: 0 exited (status = code), 1 signaled (status = signal), -1 lost (status = errno). */
export interface NativeExit {
  kind: -1 | 0 | 1;
  status: number;
  coreDumped: boolean;
  userMs: number;
  systemMs: number;
  maxRssKb: number;
  /** Members of the proc's process group outlived the leader (they were SIGKILLed). */
  groupLeft: boolean;
}

/**
 * Every binding checks what it reads and throws a TypeError/RangeError naming itself and
 * the field (`spawn: plan.memNodes[0] must be an integer in 0..1023`); what a getter or
 * Proxy trap throws comes through as is. Ranges: ids 0..2^32-1, fds 0..2^31-1, signals
 * 1..64 (parentDeathSignal 0..64), stdin 0..2, rlimits up to 16 triples
 * of -1..2^53-1 with a resource below RLIM_NLIMITS, cpus and memNodes 0..1023, argv/env/paths within
 * execve's 6 MiB ceiling, real dense arrays only.
 */
interface RawAddon {
  /** In-process: this thread clones the child and waits for its exec. */
  spawn(plan: SpawnPlan): SpawnSuccess | NativeFailure;
  /** The same, through the environment's spawn server: the loop only sends a datagram. */
  spawnAsync(plan: SpawnPlan): Promise<SpawnSuccess | NativeFailure>;
  /** Ends the spawn server if no launch is in flight through it; true when it is gone. */
  stopSpawner(): boolean;
  signal(id: number, signal: number, toGroup: boolean): boolean;
  setWatchRef(id: number, ref: boolean): void;
  openNotifySocket(address: string): number | NativeFailure;
  /** Starts reading the socket, accepting datagrams from `leaderPid`'s tree only; 0 or an errno. */
  armNotifySocket(id: number, leaderPid: number): number;
  closeNotifySocket(id: number): void;
  /** Sends an sd_notify message plus a barrier; returns the barrier pipe's read end. */
  sendNotify(address: string, message: string): number | NativeFailure;
  /** A pipe, both ends O_CLOEXEC: [readFd, writeFd]. */
  makePipe(): [number, number] | NativeFailure;
  /** sendmsg with SCM_RIGHTS on a stream socket; bytes sent. More than 16 fds: an E2BIG failure. */
  sendWithFds(socketFd: number, data: Buffer, fds: number[]): number | NativeFailure;
  /** Blocks until the barrier is released or the timeout (0..2^31-1 ms) passes; closes the fd. */
  awaitBarrierSync(fd: number, timeoutMs: number): boolean;
  setCallbacks(
    onExit: (id: number, kind: number, status: number, core: boolean, userMs: number, systemMs: number, maxRssKb: number, groupLeft: boolean) => void,
    onNotify: (socketId: number, pid: number, uid: number, message: Buffer) => void,
  ): void;
}

export type ExitListener = (exit: NativeExit) => void;
/** A datagram whose sender the addon has verified to be the proc or a descendant (raw bytes). */
export type NotifyListener = (pid: number, uid: number, message: Buffer) => void;

const exitListeners = new Map<number, ExitListener>();
const notifyListeners = new Map<number, NotifyListener>();
let loaded: RawAddon | undefined;

export function addon(): RawAddon {
  if (loaded !== undefined) return loaded;
  assertLinux();
  const raw = loadAddonBinary<RawAddon>();
  raw.setCallbacks(
    (id, kind, status, coreDumped, userMs, systemMs, maxRssKb, groupLeft) => {
      const listener = exitListeners.get(id);
      if (listener === undefined) return;
      exitListeners.delete(id);
      listener({ kind: kind as NativeExit['kind'], status, coreDumped, userMs, systemMs, maxRssKb, groupLeft });
    },
    (socketId, pid, uid, message) => notifyListeners.get(socketId)?.(pid, uid, message),
  );
  loaded = raw;
  return raw;
}

// Launchers that have used the spawn server and are not disposed: the last one to go
// ends it, so a disposed launcher leaves no process and no fd behind.
let spawnerUsers = 0;

export function useSpawner(): void {
  spawnerUsers++;
}

export function releaseSpawner(): void {
  if (--spawnerUsers === 0) addon().stopSpawner();
}

/** The watchdog executable built beside the addon. */
export function watchdogPath(): string {
  return resolve(addonDirectory(), 'proclaunch-watchdog');
}

export function isFailure(value: unknown): value is NativeFailure {
  return typeof value === 'object' && value !== null && 'errno' in value;
}

export function onExit(id: number, listener: ExitListener): void {
  exitListeners.set(id, listener);
}

export function onNotify(socketId: number, listener: NotifyListener): void {
  notifyListeners.set(socketId, listener);
}

export function offNotify(socketId: number): void {
  notifyListeners.delete(socketId);
}
