// Options of ProcManager and of one spawn, checked once with errors that name the option.
import type { LaunchOptions, ProcBind, ProcLauncher } from '../contract.js';
import { MAX_TAIL_LINES } from '../common/normalize-launch.js';
import {
  checkBoolean,
  checkInteger,
  checkKnownKeys,
  checkOptionalString,
  checkString,
  checkTimeoutMs,
  describeValue,
  isPlainObject,
} from '../common/validate.js';
import { parseCallbackHost, type CallbackEndpoint } from './callback-host.js';
import { chooseLauncher, type LauncherKind } from './launcher-choice.js';
import type { LogSink, OutputStream, PrefixFunction } from './output-router.js';

export interface ProcManagerOptions {
  /** A launcher you own, or a built-in backend (default: $PROCLAUNCH_LAUNCHER, else 'native'). */
  launcher?: 'native' | 'systemd' | 'slurm' | ProcLauncher;
  /** Passed to the built-in launcher's constructor (ignored for an instance). */
  launcherOptions?: Record<string, unknown>;
  /** A proc not ready within this many ms fails and is stopped (default: null, no deadline). */
  readyTimeoutMs?: number | null;
  /** Last stderr lines kept in terminal statuses (default: 100). */
  tailLines?: number;
  /** Terminal statuses remembered after their proc ended, oldest forgotten first (default: 1000). */
  historyLimit?: number;
  /** Grace before SIGKILL when the manager itself stops procs: ready timeout, dispose (default: 5000). */
  terminateTimeoutMs?: number;
  /** Receives every stdout/stderr line of every proc. */
  logSink?: LogSink;
  /** Write every proc's lines to this process's stdout/stderr (default: true). */
  forwardOutput?: boolean;
  /** Prefix forwarded lines: true for "[procId] ", or a function (default: false). */
  prefixOutput?: boolean | PrefixFunction;
  /** Append every line of every proc to this file, as "<ISO time> <procId> <stream> <line>". */
  logFile?: string;
  /** Put notify sockets in this directory instead of the abstract namespace (default: abstract). */
  notifySocketDir?: string;
  /**
   * Where procs on other hosts reach us for readiness over TCP: "host", "host:port",
   * "ipv6" or "[ipv6]:port" (port default: 0, ephemeral). Each proc then also gets
   * PROCLAUNCH_NOTIFY_ADDR and PROCLAUNCH_NOTIFY_SECRET (default: none, Unix sockets only).
   */
  callbackHost?: string;
}

export interface SpawnOptions {
  /** Overrides the manager's readyTimeoutMs for this proc (null: no deadline). */
  readyTimeoutMs?: number | null;
  /** Overrides the manager's tailLines for this proc. */
  tailLines?: number;
  bootstrapPayload?: string;
  processName?: string;
  logChannel?: string;
  procBind?: ProcBind;
  /** As in LaunchOptions; with 'pipe' the handle's `stdin` is the proc's stdin. */
  stdin?: LaunchOptions['stdin'];
  deadlineMs?: number;
  deadlineGraceMs?: number;
  signal?: AbortSignal;
  rlimits?: LaunchOptions['rlimits'];
  newSession?: boolean;
  /** Multi-host launchers (slurm): the host to run on (default: the launcher spreads procs over its hosts). */
  host?: string;
}

/** Launch options a spawn hands to the launcher as they are (normalizeLaunch checks them, with the launch). */
const LAUNCH_PASS_THROUGH = ['procBind', 'stdin', 'deadlineMs', 'deadlineGraceMs', 'signal', 'rlimits', 'newSession'] as const;

export interface ResolvedManagerOptions {
  launcher: LauncherKind | ProcLauncher;
  launcherOptions: Record<string, unknown>;
  readyTimeoutMs: number | null;
  tailLines: number;
  historyLimit: number;
  terminateTimeoutMs: number;
  logSink: LogSink | null;
  forwardOutput: boolean;
  prefix: PrefixFunction | null;
  logFile: string | null;
  notifySocketDir: string | null;
  callback: CallbackEndpoint | null;
}

const MANAGER_KEYS = [
  'launcher',
  'launcherOptions',
  'readyTimeoutMs',
  'tailLines',
  'historyLimit',
  'terminateTimeoutMs',
  'logSink',
  'forwardOutput',
  'prefixOutput',
  'logFile',
  'notifySocketDir',
  'callbackHost',
] as const;
const SPAWN_KEYS = ['readyTimeoutMs', 'tailLines', 'bootstrapPayload', 'processName', 'logChannel', 'host', ...LAUNCH_PASS_THROUGH] as const;

export const DEFAULT_TAIL_LINES = 100;
export const DEFAULT_HISTORY_LIMIT = 1000;
export const DEFAULT_TERMINATE_TIMEOUT_MS = 5000;

export function defaultPrefix(procId: string, _stream: OutputStream): string {
  return `[${procId}] `;
}

export function resolveManagerOptions(options: unknown): ResolvedManagerOptions {
  if (options === undefined) options = {};
  if (!isPlainObject(options)) throw new TypeError(`ProcManager options must be an object, got ${describeValue(options)}`);
  checkKnownKeys(options, MANAGER_KEYS, 'ProcManager options');
  const launcherOptions = options['launcherOptions'] ?? {};
  if (!isPlainObject(launcherOptions)) throw new TypeError(`launcherOptions must be an object, got ${describeValue(launcherOptions)}`);
  const logSink = options['logSink'];
  if (logSink !== undefined && typeof logSink !== 'function') throw new TypeError(`logSink must be a function, got ${describeValue(logSink)}`);
  const prefixOption = options['prefixOutput'];
  let prefix: PrefixFunction | null = null;
  if (typeof prefixOption === 'function') prefix = prefixOption as PrefixFunction;
  else if (checkBoolean(prefixOption, 'prefixOutput', false)) prefix = defaultPrefix;
  return {
    launcher: chooseLauncher(options['launcher']),
    launcherOptions,
    readyTimeoutMs: checkReadyTimeout(options['readyTimeoutMs'], 'readyTimeoutMs') ?? null,
    tailLines: options['tailLines'] === undefined ? DEFAULT_TAIL_LINES : checkInteger(options['tailLines'], 'tailLines', 0, MAX_TAIL_LINES),
    historyLimit:
      options['historyLimit'] === undefined ? DEFAULT_HISTORY_LIMIT : checkInteger(options['historyLimit'], 'historyLimit', 0, 2 ** 31 - 1),
    terminateTimeoutMs:
      options['terminateTimeoutMs'] === undefined
        ? DEFAULT_TERMINATE_TIMEOUT_MS
        : checkTimeoutMs(options['terminateTimeoutMs'], 'terminateTimeoutMs'),
    logSink: (logSink as LogSink | undefined) ?? null,
    forwardOutput: checkBoolean(options['forwardOutput'], 'forwardOutput', true),
    prefix,
    logFile: options['logFile'] === undefined ? null : checkString(options['logFile'], 'logFile', { nonEmpty: true }),
    notifySocketDir:
      options['notifySocketDir'] === undefined ? null : checkString(options['notifySocketDir'], 'notifySocketDir', { nonEmpty: true }),
    callback: options['callbackHost'] === undefined ? null : parseCallbackHost(options['callbackHost']),
  };
}

/** undefined: not given (use the manager's); null: no deadline. */
function checkReadyTimeout(value: unknown, option: string): number | null | undefined {
  if (value === undefined || value === null) return value;
  return checkTimeoutMs(value, option);
}

export interface ResolvedSpawnOptions {
  readyTimeoutMs: number | null;
  tailLines: number;
  /** The launch options that pass through to the launcher unchanged. */
  passThrough: Partial<Pick<LaunchOptions, 'bootstrapPayload' | 'processName' | 'logChannel' | (typeof LAUNCH_PASS_THROUGH)[number]>>;
  /** Where to run, for a multi-host launcher; undefined: the launcher picks. */
  host: string | undefined;
}

export function resolveSpawnOptions(opts: unknown, manager: ResolvedManagerOptions): ResolvedSpawnOptions {
  if (opts === undefined) opts = {};
  if (!isPlainObject(opts)) throw new TypeError(`spawn options must be an object, got ${describeValue(opts)}`);
  checkKnownKeys(opts, SPAWN_KEYS, 'spawn options');
  const readyTimeoutMs = checkReadyTimeout(opts['readyTimeoutMs'], 'opts.readyTimeoutMs');
  const passThrough: ResolvedSpawnOptions['passThrough'] = {};
  const bootstrapPayload = checkOptionalString(opts['bootstrapPayload'], 'opts.bootstrapPayload');
  if (bootstrapPayload !== undefined) passThrough.bootstrapPayload = bootstrapPayload;
  const processName = checkOptionalString(opts['processName'], 'opts.processName');
  if (processName !== undefined) passThrough.processName = processName;
  const logChannel = checkOptionalString(opts['logChannel'], 'opts.logChannel');
  if (logChannel !== undefined) passThrough.logChannel = logChannel;
  // These are checked in full by normalizeLaunch, with the launch.
  for (const key of LAUNCH_PASS_THROUGH) {
    if (opts[key] !== undefined) (passThrough as Record<string, unknown>)[key] = opts[key];
  }
  return {
    readyTimeoutMs: readyTimeoutMs === undefined ? manager.readyTimeoutMs : readyTimeoutMs,
    tailLines: opts['tailLines'] === undefined ? manager.tailLines : checkInteger(opts['tailLines'], 'opts.tailLines', 0, MAX_TAIL_LINES),
    passThrough,
    // Which hosts exist is the launcher's to say (a single-host launcher refuses any but its own).
    host: opts['host'] === undefined ? undefined : checkString(opts['host'], 'opts.host', { nonEmpty: true }),
  };
}
