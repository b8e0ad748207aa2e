// The launcher contract (DESIGN.md sections 1-2): types every backend and the manager share.
import type { Readable, Writable } from 'node:stream';

/** What to run. `program` is an absolute path or a name looked up in the parent's PATH. */
export interface BootstrapCommand {
  program: string;
  /** argv[1..] */
  args?: readonly string[];
  /** argv[0] (default: `program`) */
  arg0?: string;
  /** Overlay on the parent's environment. */
  env?: Readonly<Record<string, string>>;
  cwd?: string;
}

/** CPU and memory placement. CPU lists use the `taskset`/`numactl` syntax: "0-3,6". */
export interface ProcBind {
  /** CPUs the proc may run on. */
  cpus?: string;
  /** NUMA nodes whose CPUs the proc may run on. */
  cpunodebind?: string;
  /** NUMA nodes the proc may allocate memory from (MPOL_BIND). */
  membind?: string;
  /** Same as `cpus` (numactl's name). */
  physcpubind?: string;
}

export interface LaunchOptions {
  command: BootstrapCommand;
  /** Sets HYPERACTOR_MESH_BOOTSTRAP_MODE. */
  bootstrapPayload?: string;
  /** Sets HYPERACTOR_PROCESS_NAME (default "<procId> @ <host>"). */
  processName?: string;
  /** Sets BOOTSTRAP_LOG_CHANNEL (only when given). */
  logChannel?: string;
  /** true: stdout/stderr are pipes returned as streams; false (default): inherited. */
  wantStdio?: boolean;
  /** Keep the last N whole stderr lines for the exit result (default: 0 = no tail). */
  tailLines?: number;
  procBind?: ProcBind;
  /** The proc's stdin: /dev/null (default 'null'), this process's stdin, or a pipe (`LaunchResult.stdin`). */
  stdin?: 'null' | 'inherit' | 'pipe';
  /** Wall-clock limit from start (ms): then terminate, SIGKILL after `deadlineGraceMs`; the exit says `timedOut`. */
  deadlineMs?: number;
  /** Grace between SIGTERM and SIGKILL for the deadline and the abort (default: 5000 ms). */
  deadlineGraceMs?: number;
  /** Abort = terminate with `deadlineGraceMs`; the exit says `aborted`. Already aborted: launch rejects (AbortError). */
  signal?: AbortSignal;
  /** Resource limits set before exec, in prlimit(1) units: a number (soft = hard) or [soft, hard]; Infinity = unlimited. */
  rlimits?: ProcRlimits;
  /**
   * Native backend: the proc leads a new session (setsid) instead of only its own process
   * group in this process's session (setpgid), the default: setsid costs ~1.4 ms more per
   * launch on kernels with CONFIG_SCHED_AUTOGROUP, and the event loop waits for it. With
   * `stdin: 'inherit'` from a terminal, a proc in a group of our session that reads the
   * terminal is stopped by SIGTTIN; in a new session its read takes input (default: false). Systemd
   * units always get a session of their own: accepted, changes nothing there.
   */
  newSession?: boolean;
  /**
   * Multi-host launchers (Slurm): the node to run on (default: the launcher picks, round
   * robin). Single-host launchers do not take it.
   */
  host?: string;
}

export type RlimitName = 'nofile' | 'nproc' | 'as' | 'cpu' | 'core' | 'fsize' | 'stack' | 'memlock';
export type ProcRlimits = Partial<Record<RlimitName, number | readonly [soft: number, hard: number]>>;

export type StdioHandling =
  | { kind: 'captured'; stdout: Readable; stderr: Readable }
  | { kind: 'inherited' }
  | { kind: 'managed-by-launcher' };

export interface ProcRusage {
  userMs: number;
  systemMs: number;
  maxRssKb: number;
}

/** What the whole tree used (its cgroup), escaped descendants included. */
export interface ProcTreeUsage {
  /** User + system CPU of every process that ever ran in the tree. */
  cpuMs: number;
  /** The split, where the backend can tell it (cgroup cpu.stat: native; systemd gives only the total). */
  userMs?: number;
  systemMs?: number;
  /** memory.peak: only where the cgroup v2 memory controller is on. */
  peakMemoryKb?: number;
}

export type ProcExitResult = (
  | { kind: 'exited'; code: number }
  | { kind: 'signaled'; signal: number; signalName: string; coreDumped: boolean }
  | { kind: 'failed'; reason: string }
) & {
  stderrTail?: string[];
  /** The leader's own usage (waitid), never its escaped descendants'. */
  rusage?: ProcRusage;
  /** The whole tree's usage, where a cgroup of its own tells it (native with `cgroup`, systemd). */
  treeUsage?: ProcTreeUsage;
  orphansKilled?: number;
  /** Stopped because `deadlineMs` passed first. */
  timedOut?: true;
  /** Stopped because `signal` aborted first. */
  aborted?: true;
};

export interface LaunchResult {
  pid: number | null;
  startedAt: Date;
  stdio: StdioHandling;
  /** With `stdin: 'pipe'`, the write end of the proc's stdin (EPIPE after its exit is ignored); else null. */
  stdin: Writable | null;
  /** Multi-host launchers (Slurm): the node the proc runs on. */
  host?: string;
  /** Resolves exactly once with the terminal outcome; never rejects. */
  exit: Promise<ProcExitResult>;
}

export interface ProcLauncher {
  launch(procId: string, opts: LaunchOptions): Promise<LaunchResult>;
  /** SIGTERM to the tree, SIGKILL after `timeoutMs`. Returns at once; idempotent. */
  terminate(procId: string, timeoutMs: number): Promise<void>;
  /** SIGKILL to the tree. Returns at once; idempotent. */
  kill(procId: string): Promise<void>;
  /** Kill every proc still running and release resources. */
  dispose(): Promise<void>;
}

export type ProcLauncherErrorKind = 'launch' | 'terminate' | 'kill' | 'other';

export interface ProcLauncherErrorFields {
  code?: string;
  errno?: number;
  syscall?: string;
  stage?: string;
  path?: string;
  cause?: unknown;
}

/** A launcher failure, with Node SystemError-style fields plus the `stage` that failed. */
export class ProcLauncherError extends Error {
  readonly kind: ProcLauncherErrorKind;
  readonly code?: string;
  readonly errno?: number;
  readonly syscall?: string;
  readonly stage?: string;
  readonly path?: string;

  constructor(kind: ProcLauncherErrorKind, message: string, fields: ProcLauncherErrorFields = {}) {
    super(message, fields.cause === undefined ? undefined : { cause: fields.cause });
    this.name = 'ProcLauncherError';
    this.kind = kind;
    if (fields.code !== undefined) this.code = fields.code;
    if (fields.errno !== undefined) this.errno = fields.errno;
    if (fields.syscall !== undefined) this.syscall = fields.syscall;
    if (fields.stage !== undefined) this.stage = fields.stage;
    if (fields.path !== undefined) this.path = fields.path;
  }
}
