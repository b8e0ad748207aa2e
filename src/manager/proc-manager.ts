// ProcManager (monarch's BootstrapProcManager): the lifecycle of many procs on top of
// any ProcLauncher — readiness over sd_notify, status, tails, output, bulk shutdown.
import { createWriteStream, type WriteStream } from 'node:fs';

import { ProcLauncherError, type BootstrapCommand, type LaunchOptions, type ProcLauncher } from '../contract.js';
import { normalizeLaunch } from '../common/normalize-launch.js';
import { checkInteger, checkKnownKeys, checkProcId, checkTimeoutMs, describeValue, isPlainObject, readOptionObject } from '../common/validate.js';
import { runBounded } from './bounded-pool.js';
import { NOTIFY_ADDR_ENV, NOTIFY_SECRET_ENV, runsProcsElsewhere } from './callback-host.js';
import { CallbackServer } from './callback-server.js';
import { createLauncher } from './launcher-choice.js';
import { ManagedProc } from './managed-proc.js';
import { resolveManagerOptions, resolveSpawnOptions, type ProcManagerOptions, type ResolvedManagerOptions, type SpawnOptions } from './manager-options.js';
import { NotifyAddressBook, openNotifyChannel } from './notify-channel.js';
import { OutputRouter } from './output-router.js';
import { ProcHandle } from './proc-handle.js';
import { isTerminalStatus, type ProcStatus } from './proc-status.js';

export interface ProcListEntry {
  procId: string;
  status: ProcStatus;
}

export interface TerminateAllOptions {
  /** Grace before SIGKILL, per proc (default: the manager's terminateTimeoutMs). */
  timeoutMs?: number;
  /** Procs being stopped at once (default: 64). */
  concurrency?: number;
}

export interface TerminateAllResult {
  /** Live procs when the call began. */
  attempted: number;
  /** Of those, procs whose stop was confirmed by their exit. */
  ok: number;
  /** Of those, procs the launcher could not stop, or whose exit never came. */
  failed: number;
}

const TERMINATE_ALL_KEYS = ['timeoutMs', 'concurrency'] as const;
const DEFAULT_CONCURRENCY = 64;
/** terminateAll gives up on a proc this long after its kill deadline (a launcher that lost it). */
const EXIT_AFTER_KILL_MS = 10_000;

export class ProcManager {
  readonly #options: ResolvedManagerOptions;
  readonly #procs = new Map<string, ManagedProc>();
  /** Ended procs, oldest first: the bounded history. */
  readonly #ended = new Set<ManagedProc>();
  readonly #addresses: NotifyAddressBook;
  readonly #router: OutputRouter;
  readonly #captureFile: WriteStream | null;
  /** The TCP readiness listener (callbackHost), listening from the first spawn. */
  readonly #callbackServer: CallbackServer | null;
  /** Procs get no NOTIFY_SOCKET, only the TCP channel (a multi-host launcher with callbackHost). */
  readonly #tcpOnly: boolean;
  #launcher: Promise<ProcLauncher> | null = null;
  #disposing: Promise<void> | null = null;

  constructor(options: ProcManagerOptions = {}) {
    this.#options = resolveManagerOptions(options);
    this.#addresses = new NotifyAddressBook(this.#options.notifySocketDir ?? undefined);
    this.#callbackServer = this.#options.callback === null ? null : new CallbackServer(this.#options.callback);
    this.#tcpOnly = this.#callbackServer !== null && runsProcsElsewhere(this.#options.launcher);
    checkReadinessReachable(this.#options.readyTimeoutMs, 'readyTimeoutMs', this.#options);
    this.#captureFile = this.#options.logFile === null ? null : openCaptureFile(this.#options.logFile);
    this.#router = new OutputRouter({
      sink: this.#options.logSink,
      forwardTo: this.#options.forwardOutput ? { stdout: process.stdout, stderr: process.stderr } : null,
      prefix: this.#options.prefix,
      captureFile: this.#captureFile,
    });
  }

  /**
   * Launches `command` as `procId` and resolves once the launcher has started it.
   * Rejects with the launcher's ProcLauncherError when it cannot be started (the
   * proc is then remembered as 'failed'), and after `dispose()`.
   */
  async spawn(procId: string, command: BootstrapCommand, opts?: SpawnOptions): Promise<ProcHandle> {
    checkProcId(procId);
    // Plain copies read once: a throwing getter or Proxy trap is a TypeError here, and
    // an env that is not an object cannot be spread into one (env: 'AB' -> { 0: 'A', ... }).
    const plainCommand = readOptionObject(command, 'command');
    const plainEnv = plainCommand['env'] === undefined ? {} : readOptionObject(plainCommand['env'], 'command.env');
    const spawnOptions = resolveSpawnOptions(opts, this.#options);
    checkReadinessReachable(spawnOptions.readyTimeoutMs, 'opts.readyTimeoutMs', this.#options);
    if (this.#disposing !== null) {
      throw new ProcLauncherError('launch', `cannot spawn "${procId}": the manager is disposed`, { code: 'ERR_DISPOSED', stage: 'validate' });
    }
    const existing = this.#procs.get(procId);
    if (existing !== undefined && !existing.machine.isTerminal) {
      throw new ProcLauncherError('launch', `cannot spawn "${procId}": a proc with this id is still live`, {
        code: 'EEXIST',
        errno: 17,
        stage: 'validate',
      });
    }

    const proc = new ManagedProc(procId, this.#options.terminateTimeoutMs);
    const env: Record<string, string> = { ...(plainEnv as Record<string, string>) };
    const channel = this.#tcpOnly ? null : openNotifyChannel(this.#addresses, (pid, _uid, text) => proc.onNotify(pid, text));
    if (channel !== null) {
      proc.useChannel(channel);
      env['NOTIFY_SOCKET'] = channel.address;
    }
    const callback = this.#callbackServer?.register((text) => proc.onCallback(text)) ?? null;
    if (callback !== null) {
      proc.useCallback(callback);
      env[NOTIFY_SECRET_ENV] = callback.secret;
    }
    blankInheritedChannels(env, channel === null ? ['NOTIFY_SOCKET'] : callback === null ? [NOTIFY_ADDR_ENV, NOTIFY_SECRET_ENV] : []);
    const launchOptions: LaunchOptions = {
      ...spawnOptions.passThrough,
      command: { ...(plainCommand as unknown as BootstrapCommand), env },
      wantStdio: true,
      tailLines: spawnOptions.tailLines,
    };
    try {
      // Every option error surfaces here, before the proc is registered.
      normalizeLaunch(procId, launchOptions);
    } catch (error) {
      channel?.close();
      callback?.close();
      throw error;
    }
    // Added after the check: which hosts exist is for the launcher to judge.
    if (spawnOptions.host !== undefined) launchOptions.host = spawnOptions.host;
    if (existing !== undefined) this.#forget(existing);
    this.#procs.set(procId, proc);
    void proc.wait().then(() => this.#remember(proc));
    if (spawnOptions.readyTimeoutMs !== null) proc.startReadyDeadline(spawnOptions.readyTimeoutMs);

    let launcher: ProcLauncher;
    try {
      // The listener's address is known once it listens (port 0: ephemeral).
      if (this.#callbackServer !== null) env[NOTIFY_ADDR_ENV] = await this.#callbackServer.address();
      launcher = await this.#getLauncher();
      const result = await launcher.launch(procId, launchOptions);
      proc.onLaunched(launcher, result, spawnOptions.tailLines, this.#router);
    } catch (error) {
      proc.failLaunch(error);
      throw error;
    }
    return new ProcHandle(proc);
  }

  /** The current status of `procId`, live or remembered; undefined when unknown or forgotten. */
  status(procId: string): ProcStatus | undefined {
    return this.#procs.get(procId)?.status;
  }

  /** Live and remembered procs, in spawn order. */
  list(): ProcListEntry[] {
    return [...this.#procs.values()].map((proc) => ({ procId: proc.procId, status: proc.status }));
  }

  /**
   * Stops every live proc (graceful, then kill after `timeoutMs`), at most `concurrency`
   * at a time, and resolves once each has ended or been given up on.
   */
  async terminateAll(options: TerminateAllOptions = {}): Promise<TerminateAllResult> {
    if (!isPlainObject(options)) throw new TypeError(`terminateAll options must be an object, got ${describeValue(options)}`);
    checkKnownKeys(options, TERMINATE_ALL_KEYS, 'terminateAll options');
    const timeoutMs = options.timeoutMs === undefined ? this.#options.terminateTimeoutMs : checkTimeoutMs(options.timeoutMs, 'timeoutMs');
    const concurrency =
      options.concurrency === undefined ? DEFAULT_CONCURRENCY : checkInteger(options.concurrency, 'concurrency', 1, 2 ** 31 - 1);
    return this.#stopAll(timeoutMs, concurrency);
  }

  /** Stops everything, releases sockets, files and the launcher it created; after it, spawn rejects. Idempotent. */
  dispose(): Promise<void> {
    this.#disposing ??= this.#dispose();
    return this.#disposing;
  }

  async #dispose(): Promise<void> {
    await this.#stopAll(this.#options.terminateTimeoutMs, Number.MAX_SAFE_INTEGER);
    for (const proc of this.#procs.values()) if (!proc.machine.isTerminal) proc.abandon();
    if (this.#launcher !== null && typeof this.#options.launcher === 'string') {
      // Only a launcher this manager created is ours to dispose.
      await (await this.#launcher.catch(() => null))?.dispose();
    }
    await this.#callbackServer?.close();
    if (this.#captureFile !== null) {
      const file = this.#captureFile;
      await new Promise<void>((resolve) => file.end(() => resolve()));
    }
  }

  async #stopAll(timeoutMs: number, concurrency: number): Promise<TerminateAllResult> {
    const live = [...this.#procs.values()].filter((proc) => !proc.machine.isTerminal);
    let ok = 0;
    let failed = 0;
    await runBounded(live, concurrency, async (proc) => {
      const stopped = await withDeadline(proc.terminate(timeoutMs), timeoutMs + EXIT_AFTER_KILL_MS);
      if (stopped) ok++;
      else failed++;
    });
    return { attempted: live.length, ok, failed };
  }

  #getLauncher(): Promise<ProcLauncher> {
    const choice = this.#options.launcher;
    this.#launcher ??= typeof choice === 'string' ? createLauncher(choice, this.#options.launcherOptions) : Promise.resolve(choice);
    return this.#launcher;
  }

  #remember(proc: ManagedProc): void {
    if (this.#procs.get(proc.procId) !== proc) return;
    this.#ended.add(proc);
    for (const oldest of this.#ended) {
      if (this.#ended.size <= this.#options.historyLimit) break;
      this.#forget(oldest);
    }
  }

  #forget(proc: ManagedProc): void {
    this.#ended.delete(proc);
    if (this.#procs.get(proc.procId) === proc) this.#procs.delete(proc.procId);
  }
}

/** True if `stop` resolved with a terminal status in time; false if it rejected or took longer. */
async function withDeadline(stop: Promise<ProcStatus>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
    timer.unref();
  });
  try {
    return await Promise.race([stop.then((status) => isTerminalStatus(status)), late]);
  } catch {
    return false;
  } finally {
    clearTimeout(timer);
  }
}

/**
 * A manager that is itself a managed proc has its own manager's channel variables; its
 * procs would inherit those it does not set, and their messages would reach the wrong
 * manager. The overlay cannot remove a variable, so they are set empty: proclaunch/notify
 * reads that as "not set", sd_notify senders fail with EINVAL; nothing is sent anywhere.
 * A value in the spawn's own env wins.
 */
function blankInheritedChannels(env: Record<string, string>, names: readonly string[]): void {
  for (const name of names) if (!(name in env) && (process.env[name] ?? '') !== '') env[name] = '';
}

function openCaptureFile(path: string): WriteStream {
  const file = createWriteStream(path, { flags: 'a' });
  file.on('error', (error) => process.emitWarning(`proclaunch: cannot write the log file ${path}: ${error.message}`, 'ProcManagerWarning'));
  return file;
}

/**
 * A ready deadline for procs on other hosts without callbackHost could only ever fail
 * them: they cannot reach the manager's Unix socket. Refused up front instead.
 */
function checkReadinessReachable(readyTimeoutMs: number | null, option: string, manager: ResolvedManagerOptions): void {
  if (readyTimeoutMs === null || manager.callback !== null || !runsProcsElsewhere(manager.launcher)) return;
  throw new RangeError(
    `${option} needs callbackHost with a multi-host launcher: its procs run on other hosts and can only report ready over TCP (give callbackHost: an address of this host they can reach)`,
  );
}
