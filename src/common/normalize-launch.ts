// Validates LaunchOptions once, for every backend, into a flat, trusted shape.
import { hostname } from 'node:os';

import { ProcLauncherError, type LaunchOptions } from '../contract.js';
import { AbortError } from './abort-error.js';
import { parseIndexList } from './cpu-list.js';
import { normalizeRlimits, type NormalizedRlimit } from './rlimits.js';
import {
  checkBoolean,
  checkInteger,
  checkOptionalString,
  checkProcId,
  checkString,
  checkTimeoutMs,
  describeValue,
  readOptionObject,
  readStringArray,
} from './validate.js';

export interface NormalizedProcBind {
  cpus?: number[];
  cpuNodes?: number[];
  memNodes?: number[];
}

export interface NormalizedLaunch {
  procId: string;
  program: string;
  args: string[];
  arg0: string;
  /** The proc's whole environment: parent's, overlay, then the contract variables (computed on first use). */
  readonly env: Record<string, string>;
  /** What the proc's environment changes from the parent's: `command.env`, then the contract variables. */
  envOverlay: Record<string, string>;
  /** Parent variables the proc must not inherit (per-proc contract variables not given). */
  envRemove: string[];
  cwd?: string;
  wantStdio: boolean;
  tailLines: number;
  procBind?: NormalizedProcBind;
  stdin: StdinMode;
  /** What bounds the run: deadline, abort signal, and the grace both give before SIGKILL. */
  limits: RunLimits;
  rlimits: NormalizedRlimit[];
  /** setsid() rather than setpgid(0, 0) in the child (native backend). */
  newSession: boolean;
}

export type StdinMode = 'null' | 'inherit' | 'pipe';

export interface RunLimits {
  deadlineMs?: number;
  graceMs: number;
  signal?: AbortSignal;
}

const LAUNCH_KEYS = ['command', 'bootstrapPayload', 'processName', 'logChannel', 'wantStdio', 'tailLines', 'procBind',
  'stdin', 'deadlineMs', 'deadlineGraceMs', 'signal', 'rlimits', 'newSession', 'host'] as const;
const STDIN_MODES: readonly StdinMode[] = ['null', 'inherit', 'pipe'];
export const DEFAULT_DEADLINE_GRACE_MS = 5000;
const COMMAND_KEYS = ['program', 'args', 'arg0', 'env', 'cwd'] as const;
const BIND_KEYS = ['cpus', 'cpunodebind', 'membind', 'physcpubind'] as const;
/** Per-proc contract variables: never inherited from the parent, only set when given. */
const PER_PROC_VARS = ['HYPERACTOR_MESH_BOOTSTRAP_MODE', 'BOOTSTRAP_LOG_CHANNEL'] as const;
export const MAX_TAIL_LINES = 100_000;
/**
 * What execve can ever carry, whatever the stack rlimit (fs/exec.c: 3/4 of the 8 MiB
 * _STK_LIM, for argv and envp strings plus their pointers): past it a launch is E2BIG
 * before anything is tried, and no list that long reaches the addon.
 */
export const MAX_EXEC_BYTES = 6 * 1024 * 1024;
const POINTER_BYTES = 8;
const E2BIG = 7;

export function normalizeLaunch(procIdValue: unknown, optsValue: unknown, parentEnv: NodeJS.ProcessEnv = process.env): NormalizedLaunch {
  const procId = checkProcId(procIdValue);
  // Plain copies, each property read once: getters and Proxy traps run here or never.
  const opts = readOptionObject(optsValue, 'opts', LAUNCH_KEYS);
  const command = readOptionObject(opts['command'], 'opts.command', COMMAND_KEYS);

  const program = checkString(command['program'], 'opts.command.program', { nonEmpty: true });
  const args = checkArgs(command['args']);
  const arg0 = command['arg0'] === undefined ? program : checkString(command['arg0'], 'opts.command.arg0');
  const overlay = checkEnv(command['env']);
  const cwd = command['cwd'] === undefined ? undefined : checkString(command['cwd'], 'opts.command.cwd', { nonEmpty: true });

  const bootstrapPayload = checkOptionalString(opts['bootstrapPayload'], 'opts.bootstrapPayload');
  const processName = checkOptionalString(opts['processName'], 'opts.processName');
  const logChannel = checkOptionalString(opts['logChannel'], 'opts.logChannel');
  const wantStdio = checkBoolean(opts['wantStdio'], 'opts.wantStdio', false);
  const tailLines = opts['tailLines'] === undefined ? 0 : checkInteger(opts['tailLines'], 'opts.tailLines', 0, MAX_TAIL_LINES);
  const procBind = opts['procBind'] === undefined ? undefined : normalizeProcBind(opts['procBind']);
  const stdin = checkStdin(opts['stdin']);
  const limits = readRunLimits(opts);
  const rlimits = opts['rlimits'] === undefined ? [] : normalizeRlimits(opts['rlimits']);
  const newSession = checkBoolean(opts['newSession'], 'opts.newSession', false);
  checkOwnHost(opts['host']);

  const envOverlay: Record<string, string> = { ...overlay };
  envOverlay['HYPERACTOR_PROCESS_NAME'] = processName ?? `${procId} @ ${hostOf(parentEnv)}`;
  if (bootstrapPayload !== undefined) envOverlay['HYPERACTOR_MESH_BOOTSTRAP_MODE'] = bootstrapPayload;
  if (logChannel !== undefined) envOverlay['BOOTSTRAP_LOG_CHANNEL'] = logChannel;
  const envRemove: string[] = PER_PROC_VARS.filter((name) => !(name in envOverlay));
  checkExecSize(arg0, args, envOverlay);

  // Reading all of process.env costs more than the whole clone+exec on the main
  // thread, so the full environment is built only for those who ask for it (the
  // systemd backend, launches from worker threads).
  let fullEnv: Record<string, string> | undefined;
  const normalized: NormalizedLaunch = {
    procId,
    program,
    args,
    arg0,
    get env(): Record<string, string> {
      if (fullEnv === undefined) {
        fullEnv = {};
        for (const [key, value] of Object.entries(parentEnv)) {
          if (value !== undefined && !envRemove.includes(key)) fullEnv[key] = value;
        }
        Object.assign(fullEnv, envOverlay);
      }
      return fullEnv;
    },
    envOverlay,
    envRemove,
    wantStdio,
    tailLines,
    stdin,
    limits,
    rlimits,
    newSession,
  };
  if (cwd !== undefined) normalized.cwd = cwd;
  if (procBind !== undefined) normalized.procBind = procBind;
  return normalized;
}

function checkStdin(value: unknown): StdinMode {
  if (value === undefined) return 'null';
  if (typeof value !== 'string') throw new TypeError(`opts.stdin must be 'null', 'inherit' or 'pipe', got ${describeValue(value)}`);
  if (!(STDIN_MODES as readonly string[]).includes(value)) {
    throw new RangeError(`opts.stdin must be 'null', 'inherit' or 'pipe', got ${JSON.stringify(value)}`);
  }
  return value as StdinMode;
}

/** deadlineMs, deadlineGraceMs and signal; an already aborted signal rejects here, before anything starts. */
function readRunLimits(opts: Record<string, unknown>): RunLimits {
  const limits: RunLimits = {
    graceMs: opts['deadlineGraceMs'] === undefined ? DEFAULT_DEADLINE_GRACE_MS : checkTimeoutMs(opts['deadlineGraceMs'], 'opts.deadlineGraceMs'),
  };
  if (opts['deadlineMs'] !== undefined) limits.deadlineMs = checkTimeoutMs(opts['deadlineMs'], 'opts.deadlineMs');
  const signal = opts['signal'];
  if (signal !== undefined) {
    if (!(signal instanceof AbortSignal)) throw new TypeError(`opts.signal must be an AbortSignal, got ${describeValue(signal)}`);
    if (signal.aborted) throw new AbortError('The launch was aborted before it started (opts.signal is already aborted)', { cause: signal.reason });
    limits.signal = signal;
  }
  return limits;
}

/** DESIGN section 2: a single-host launcher takes `host` only when it names this machine (multi-host launchers take it out first). */
function checkOwnHost(value: unknown): void {
  if (value === undefined) return;
  const host = checkString(value, 'opts.host', { nonEmpty: true });
  if (host !== hostname()) throw new RangeError(`opts.host ${JSON.stringify(host)} is not this machine (${hostname()}): this launcher runs procs here only`);
}

/** The host part of the default process name: from the parent's own name, else the hostname. */
function hostOf(parentEnv: NodeJS.ProcessEnv): string {
  const parentName = parentEnv['HYPERACTOR_PROCESS_NAME'];
  if (parentName !== undefined && parentName.length > 0) {
    const at = parentName.lastIndexOf(' @ ');
    return at >= 0 ? parentName.slice(at + 3) : parentName;
  }
  return hostname();
}

function argvTooLarge(detail: string): ProcLauncherError {
  return new ProcLauncherError('launch', `${detail}: more than the ${MAX_EXEC_BYTES} bytes execve can ever pass to a program`, {
    code: 'E2BIG',
    errno: E2BIG,
    syscall: 'execve',
    stage: 'validate',
  });
}

function checkArgs(value: unknown): string[] {
  if (value === undefined) return [];
  // Each argument costs at least its terminating NUL and a pointer.
  const maxArgs = Math.floor(MAX_EXEC_BYTES / (POINTER_BYTES + 1));
  return readStringArray(value, 'opts.command.args', maxArgs, (length) => argvTooLarge(`opts.command.args has ${length} elements`));
}

/**
 * argv and the environment overlay alone past what execve can carry: E2BIG now. The
 * UTF-16 length bounds the UTF-8 size from below and a third of it from above, so the
 * exact size is computed only near the limit.
 */
function checkExecSize(arg0: string, args: readonly string[], overlay: Record<string, string>): void {
  let units = arg0.length;
  let count = 1 + args.length;
  for (const arg of args) units += arg.length;
  for (const key in overlay) {
    units += key.length + 1 + overlay[key]!.length;
    count++;
  }
  const pointers = count * (POINTER_BYTES + 1);
  if (units * 3 + pointers <= MAX_EXEC_BYTES) return;
  let bytes = Buffer.byteLength(arg0);
  for (const arg of args) bytes += Buffer.byteLength(arg);
  for (const key in overlay) bytes += Buffer.byteLength(key) + 1 + Buffer.byteLength(overlay[key]!);
  if (bytes + pointers > MAX_EXEC_BYTES) throw argvTooLarge(`opts.command.args and env need ${bytes + pointers} bytes`);
}

function checkEnv(value: unknown): Record<string, string> {
  if (value === undefined) return {};
  const env = readOptionObject(value, 'opts.command.env');
  const out: Record<string, string> = {};
  for (const [key, entry] of Object.entries(env)) {
    checkString(key, 'opts.command.env key', { nonEmpty: true });
    if (key.includes('=')) throw new RangeError(`opts.command.env key ${JSON.stringify(key)} must not contain "="`);
    out[key] = checkString(entry, `opts.command.env.${key}`);
  }
  return out;
}

function normalizeProcBind(bindValue: unknown): NormalizedProcBind {
  const value = readOptionObject(bindValue, 'opts.procBind', BIND_KEYS);
  const list = (key: (typeof BIND_KEYS)[number]): number[] | undefined => {
    const text = value[key];
    return text === undefined ? undefined : parseIndexList(checkString(text, `opts.procBind.${key}`), `opts.procBind.${key}`);
  };
  const cpus = list('cpus');
  const physcpubind = list('physcpubind');
  if (cpus !== undefined && physcpubind !== undefined && cpus.join() !== physcpubind.join()) {
    throw new RangeError('opts.procBind.cpus and opts.procBind.physcpubind name different CPUs; give one of them');
  }
  const out: NormalizedProcBind = {};
  const chosen = cpus ?? physcpubind;
  if (chosen !== undefined) out.cpus = chosen;
  const cpuNodes = list('cpunodebind');
  if (cpuNodes !== undefined) out.cpuNodes = cpuNodes;
  const memNodes = list('membind');
  if (memNodes !== undefined) out.memNodes = memNodes;
  return out;
}
