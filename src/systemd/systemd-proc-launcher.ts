// SystemdProcLauncher: the launcher contract over transient systemd services on D-Bus.
import {
  ProcLauncherError,
  type LaunchOptions,
  type LaunchResult,
  type ProcExitResult,
  type ProcLauncher,
} from '../contract.js';
import { normalizeLaunch, type NormalizedLaunch } from '../common/normalize-launch.js';
import { checkProcId, checkTimeoutMs } from '../common/validate.js';
import { resolveOptions, type ResolvedOptions, type SystemdProcLauncherOptions } from './launcher-options.js';
import { newLiveUnit, type LiveUnit } from './live-unit.js';
import { SocketCapture, SocketDir, openUnitStdio } from './stdio-sockets.js';
import { PipeCapture } from './stdio-pipes.js';
import { duplicateError, startTransientUnit } from './start-unit.js';
import { SystemdBus, describe, isGoneError, type BusListener } from './systemd-bus.js';
import { exitResultOf, hasExited, serviceStateOf, startFailureOf, type ServiceState } from './unit-exit.js';
import { describeProcId } from './unit-file-text.js';
import { UnitIndex } from './unit-index.js';
import { unitNameOf, unitObjectPath } from './unit-name.js';
import { recheckUnit } from './unit-recheck.js';
import { resolveCwd, resolveProgram, unitEnvironment, unitProperties } from './unit-spec.js';
import { UnitWatch } from './unit-watch.js';
import { waitAtMost } from '../common/wait-at-most.js';
import { superviseRun } from '../common/run-limits.js';
import { UnitStdin } from './stdio-stdin.js';
import { readUnitTreeUsage } from './unit-usage.js';
import { checkExecSize } from './exec-size.js';
import { closeAtExit } from '../common/stdin-stream.js';

const SERVICE_IFACE = 'org.freedesktop.systemd1.Service';
const UNIT_IFACE = 'org.freedesktop.systemd1.Unit';
const SIGTERM = 15;
const SIGKILL = 9;
/** How long a finished unit may take to be unloaded after Unref before we stop waiting. */
const UNLOAD_WAIT_MS = 2_000;
/** The unit connected its stdio before exec; the accept is at most a loop turn behind. */
const STDIO_CONNECT_GRACE_MS = 200;
/** How long the exit waits for the last stderr lines of the tail. */
const TAIL_WAIT_MS = 250;
/** dispose() waits this long for killed units to report before failing their exits. */
const DISPOSE_WAIT_MS = 10_000;

export type { SystemdBusOption, SystemdProcLauncherOptions } from './launcher-options.js';

export class SystemdProcLauncher implements ProcLauncher {
  readonly #options: ResolvedOptions;
  /** Procs by id, from launch() until their exit: a second launch of an id is a duplicate. */
  readonly #units = new Map<string, LiveUnit>();
  /** Units whose StartTransientUnit succeeded, and units still being started, for the bus's signals. */
  readonly #started = new UnitIndex();
  readonly #starting = new UnitIndex();
  readonly #sockets: SocketDir;
  readonly #launching = new Set<Promise<unknown>>();
  #bus: Promise<SystemdBus> | null = null;
  #inFlight = 0;
  #disposed = false;

  constructor(options: SystemdProcLauncherOptions = {}) {
    this.#options = resolveOptions(options);
    this.#sockets = new SocketDir(this.#options.socketBase);
  }

  /** The D-Bus address this launcher dials. */
  get address(): string {
    return this.#options.address;
  }

  /** Procs launched and not yet exited. */
  get size(): number {
    return this.#units.size;
  }

  /**
   * Connects to the bus and subscribes to the manager now, instead of at the first launch:
   * rejects with a ProcLauncherError naming the address when either is not there.
   */
  async connect(): Promise<void> {
    await this.#connect();
  }

  /** The unit name a proc id gets (stable, valid, length-safe). */
  unitNameOf(procId: string): string {
    return unitNameOf(this.#options.unitPrefix, checkProcId(procId));
  }

  async launch(procId: string, opts: LaunchOptions): Promise<LaunchResult> {
    const launch = normalizeLaunch(procId, opts);
    if (this.#disposed) {
      throw new ProcLauncherError('launch', `cannot launch "${launch.procId}": the launcher is disposed`, { code: 'ERR_DISPOSED', stage: 'validate' });
    }
    if (this.#units.has(launch.procId)) throw duplicateError(launch.procId, 'a proc with this id is still running');
    const cwd = resolveCwd(launch);
    const program = resolveProgram(launch, cwd);
    const env = unitEnvironment(launch, Object.keys(opts.command.env ?? {}));
    checkExecSize(launch, env);
    const name = unitNameOf(this.#options.unitPrefix, launch.procId);
    const holder = this.#unitNamed(name);
    if (holder !== undefined) throw duplicateError(launch.procId, `its unit name ${name} is in use by "${holder.procId}"`);

    const unit = newLiveUnit(launch.procId, new UnitWatch(name, unitObjectPath(name)), launch.tailLines);
    // Reserved before the first await, so a concurrent launch of the same id is a duplicate;
    // both slots were checked free, so nothing of another proc is replaced.
    this.#units.set(launch.procId, unit);
    this.#starting.add(unit);
    const attempt = this.#start(unit, launch, program, cwd, env);
    this.#launching.add(attempt);
    this.#busy(+1);
    try {
      return await attempt;
    } catch (err) {
      this.#forget(unit);
      for (const capture of unit.captures) capture.destroy();
      unit.stdin?.destroy();
      throw err;
    } finally {
      this.#launching.delete(attempt);
      this.#busy(-1);
      unit.markLaunched();
    }
  }

  async terminate(procId: string, timeoutMs: number): Promise<void> {
    checkProcId(procId);
    checkTimeoutMs(timeoutMs, 'timeoutMs');
    const unit = this.#units.get(procId);
    if (unit !== undefined) await this.#terminateUnit(unit, timeoutMs);
  }

  async #terminateUnit(unit: LiveUnit, timeoutMs: number): Promise<void> {
    const procId = unit.procId;
    await unit.launched;
    if (!unit.running || unit.settled) return;
    const deadline = Date.now() + timeoutMs;
    // One escalation timer per unit: a second terminate may only bring it forward.
    if (deadline < unit.escalationDeadline) {
      clearTimeout(unit.escalation);
      unit.escalationDeadline = deadline;
      unit.escalation = setTimeout(() => void this.#signalAll(unit, SIGKILL).catch(() => {}), timeoutMs);
      unit.escalation.unref();
    }
    await this.#withBus('terminate', procId, async (bus) => {
      // systemd refuses to change TimeoutStopUSec of a loaded unit, so the unit keeps the
      // one set at start: within it StopUnit is used (and our timer escalates on time);
      // a longer timeout gets SIGTERM to the cgroup instead, which systemd would cut short.
      if (timeoutMs <= this.#options.stopTimeoutMs) await bus.callManager('StopUnit', 'ss', [unit.watch.name, 'replace']);
      else await this.#signalAll(unit, SIGTERM);
    });
  }

  async kill(procId: string): Promise<void> {
    checkProcId(procId);
    const unit = this.#units.get(procId);
    if (unit === undefined) return;
    await unit.launched;
    if (!unit.running || unit.settled) return;
    await this.#withBus('kill', procId, () => this.#signalAll(unit, SIGKILL));
  }

  /** Kills every unit still running, waits for their exits (bounded), closes the bus. */
  async dispose(): Promise<void> {
    this.#disposed = true;
    await Promise.allSettled([...this.#launching]);
    const live = [...this.#units.values()].filter((unit) => !unit.settled);
    this.#busy(+1);
    try {
      await Promise.allSettled(live.map((unit) => this.#signalAll(unit, SIGKILL)));
      const timer = setTimeout(() => {
        for (const unit of live) this.#fail(unit, `dispose(): unit ${unit.watch.name} did not report its exit within ${DISPOSE_WAIT_MS} ms after SIGKILL`);
      }, DISPOSE_WAIT_MS);
      await Promise.all(live.map((unit) => unit.exit));
      clearTimeout(timer);
    } finally {
      this.#busy(-1);
    }
    const bus = this.#bus;
    this.#bus = null;
    if (bus !== null) await bus.then((connected) => connected.close(), () => {});
    this.#sockets.remove();
  }

  async #start(unit: LiveUnit, launch: NormalizedLaunch, program: string, cwd: string, env: string[]): Promise<LaunchResult> {
    const bus = await this.#connect();
    unit.stdin = new UnitStdin(launch.procId, launch.stdin, bus.canPassFds);
    const { stdio, stdout, stderr } = await openUnitStdio(this.#sockets, launch.wantStdio, unit.tail, bus.canPassFds);
    unit.captures = [stdout, stderr].filter((capture) => capture !== null);
    if (stderr !== null) unit.stderrEnded = stderr.ended;
    const properties = unitProperties(launch, program, cwd, env, {
      description: describeProcId(launch.procId),
      slice: this.#options.slice,
      stopTimeoutMs: this.#options.stopTimeoutMs,
      stdoutSocket: stdout instanceof SocketCapture ? stdout.path : null,
      stderrSocket: stderr instanceof SocketCapture ? stderr.path : null,
      stdoutFd: stdout instanceof PipeCapture ? stdout.unitFd : null,
      stderrFd: stderr instanceof PipeCapture ? stderr.unitFd : null,
      stdinFd: unit.stdin.unitFd,
    });
    const startedAt = new Date();
    const jobResult = new Promise<string>((resolve, reject) => {
      unit.abortStart = reject;
      unit.watch.listen({
        started: resolve,
        finished: () => {},
        vanished: () => reject(new Error(`unit ${unit.watch.name} was unloaded while starting`)),
      });
    });
    // It may be rejected (bus lost, unit unloaded) before it is awaited below.
    jobResult.catch(() => {});
    const job = await startTransientUnit(bus, { procId: unit.procId, name: unit.watch.name, path: unit.watch.path }, properties);
    // Only a started unit is tracked as this launcher's (the name stays routed meanwhile).
    this.#started.add(unit);
    this.#starting.remove(unit);
    // systemd has its own copies of the pipes' write ends now: ours would keep the
    // streams from ever ending.
    for (const capture of unit.captures) if (capture instanceof PipeCapture) capture.releaseUnitEnd();
    unit.stdin.releaseUnitEnd();
    unit.watch.setStartJob(job);
    const result = await jobResult;
    unit.abortStart = null;
    if (result !== 'done') {
      if (unit.watch.service.code === undefined) Object.assign(unit.watch.service, await this.#serviceState(bus, unit));
      const failure = startFailureOf(unit.watch.service, unit.watch.name, launch.procId, result);
      if (failure !== null) {
        await this.#release(bus, unit);
        throw failure;
      }
    }
    const pid = unit.watch.service.mainPid ?? (await this.#mainPid(bus, unit));
    unit.running = true;
    unit.watch.listen({
      started: () => {},
      finished: () => void this.#finish(unit),
      vanished: () => this.#vanished(unit),
    });
    // A unit already finished (a fast program) is reported by listen() at once.
    if (this.#disposed) void this.#signalAll(unit, SIGKILL).catch(() => {});
    // The deadline and abort reach this unit only, never a later one with the same id.
    const exit = superviseRun(unit.exit, launch.limits, (graceMs) => this.#terminateUnit(unit, graceMs));
    closeAtExit(unit.stdin.stream, unit.exit);
    return { pid, startedAt, stdio, stdin: unit.stdin.stream, exit };
  }

  /** The unit is inactive or failed: read its exit, let systemd unload it, then settle. */
  async #finish(unit: LiveUnit): Promise<void> {
    if (unit.finishing) return;
    unit.finishing = true;
    clearTimeout(unit.escalation);
    const bus = await this.#bus?.catch(() => null);
    let result: ProcExitResult;
    try {
      if (bus === null || bus === undefined) throw new Error('the bus is gone');
      if (!hasExited(unit.watch.service)) Object.assign(unit.watch.service, await this.#serviceState(bus, unit));
      result = exitResultOf(unit.watch.service, unit.watch.name);
      const treeUsage = await readUnitTreeUsage(bus, unit.watch.path);
      if (treeUsage !== undefined) result.treeUsage = treeUsage;
      await this.#release(bus, unit);
    } catch (err) {
      result = { kind: 'failed', reason: `the exit of unit ${unit.watch.name} could not be read: ${describe(err)}` };
    }
    await Promise.all(unit.captures.map((capture) => capture.finish(STDIO_CONNECT_GRACE_MS)));
    if (unit.tail !== null) await waitAtMost(unit.stderrEnded, TAIL_WAIT_MS);
    this.#settle(unit, result);
  }

  /** Unref the pinned unit and wait (bounded) until systemd has unloaded it. */
  async #release(bus: SystemdBus, unit: LiveUnit): Promise<void> {
    const unloaded = new Promise<void>((resolve) => unit.watch.listen({ started: () => {}, finished: () => {}, vanished: resolve }));
    unit.releasing = true;
    try {
      await bus.callUnit(unit.watch.path, 'Unref');
    } catch (err) {
      if (isGoneError(err)) return;
      // Not pinned after all (e.g. AddRef refused): a failed unit still needs resetting.
      await bus.callManager('ResetFailedUnit', 's', [unit.watch.name]).catch(() => {});
    }
    await waitAtMost(unloaded, UNLOAD_WAIT_MS);
  }

  /** systemd unloaded the unit for good (not a reload): an exit already signalled still counts. */
  #vanished(unit: LiveUnit): void {
    if (hasExited(unit.watch.service)) void this.#finish(unit);
    else this.#fail(unit, `unit ${unit.watch.name} was unloaded by systemd before its exit was seen`);
  }

  /** A UnitRemoved: the real unload after Unref, or a daemon-reload that loaded the unit again. */
  async #unitRemoved(unit: LiveUnit): Promise<void> {
    if (unit.releasing) return unit.watch.unitRemoved();
    const check = ++unit.removalChecks;
    const bus = await this.#bus?.catch(() => null);
    if (bus === null || bus === undefined) return;
    const found = await recheckUnit(bus, unit.watch.name, unit.watch.path);
    // A later UnitRemoved has its own check; a settled unit needs none.
    if (check !== unit.removalChecks || unit.settled) return;
    if (found.kind === 'gone') {
      unit.watch.unitRemoved();
    } else if (found.kind === 'loaded') {
      // What may have changed while the manager reloaded (the program may have exited).
      unit.watch.propertiesChanged(SERVICE_IFACE, found.service);
      unit.watch.propertiesChanged(UNIT_IFACE, found.unit);
    }
  }

  #unitNamed(name: string): LiveUnit | undefined {
    return this.#started.named(name) ?? this.#starting.named(name);
  }

  #fail(unit: LiveUnit, reason: string): void {
    if (unit.settled) return;
    unit.finishing = true;
    clearTimeout(unit.escalation);
    for (const capture of unit.captures) capture.destroy();
    const tail = unit.tail;
    this.#settle(unit, tail === null ? { kind: 'failed', reason } : { kind: 'failed', reason, stderrTail: tail.lines() });
  }

  #settle(unit: LiveUnit, result: ProcExitResult): void {
    if (unit.settled) return;
    unit.settled = true;
    this.#forget(unit);
    const tail = unit.tail;
    unit.settle(tail === null || result.stderrTail !== undefined ? result : { ...result, stderrTail: tail.lines() });
  }

  #forget(unit: LiveUnit): void {
    if (this.#units.get(unit.procId) === unit) this.#units.delete(unit.procId);
    this.#started.remove(unit);
    this.#starting.remove(unit);
    this.#updateRef();
  }

  #signalAll(unit: LiveUnit, signal: number): Promise<void> {
    return this.#withBus(signal === SIGKILL ? 'kill' : 'terminate', unit.procId, async (bus) => {
      await bus.callManager('KillUnit', 'ssi', [unit.watch.name, 'all', signal]);
    });
  }

  /** Runs a call; a unit that is already gone is not an error, anything else is. */
  async #withBus(kind: 'terminate' | 'kill', procId: string, fn: (bus: SystemdBus) => Promise<void>): Promise<void> {
    this.#busy(+1);
    try {
      const bus = await this.#connect();
      await fn(bus);
    } catch (err) {
      if (isGoneError(err) || this.#units.get(procId)?.settled !== false) return;
      throw new ProcLauncherError(kind, `cannot ${kind} "${procId}": ${describe(err)}`, { code: 'ERR_SYSTEMD_CALL', stage: kind, cause: err });
    } finally {
      this.#busy(-1);
    }
  }

  #connect(): Promise<SystemdBus> {
    if (this.#bus === null) {
      const listener: BusListener = {
        unitPropertiesChanged: (path, iface, changed) => (this.#started.at(path) ?? this.#starting.at(path))?.watch.propertiesChanged(iface, changed),
        jobRemoved: (unitName, job, result) => this.#unitNamed(unitName)?.watch.jobRemoved(job, result),
        unitRemoved: (unitName) => {
          const unit = this.#unitNamed(unitName);
          if (unit !== undefined) void this.#unitRemoved(unit);
        },
        lost: (reason) => this.#lost(connecting, reason),
      };
      const { address, busLabel, connectTimeoutMs } = this.#options;
      const connecting = SystemdBus.connect(address, busLabel, connectTimeoutMs, listener);
      this.#bus = connecting;
      connecting.then(
        () => this.#updateRef(),
        () => {
          if (this.#bus === connecting) this.#bus = null; // the next launch dials again
        },
      );
    }
    return this.#bus;
  }

  /** The bus dropped or the manager left: every unit's exit fails now, the next launch redials. */
  #lost(which: Promise<SystemdBus>, reason: string): void {
    if (this.#bus === which) this.#bus = null;
    for (const unit of [...this.#units.values()]) {
      if (unit.running) {
        this.#fail(unit, `${reason}; the exit of unit ${unit.watch.name} is unknown`);
      } else {
        unit.abortStart?.(new ProcLauncherError('launch', `cannot launch "${unit.procId}": ${reason} while its unit was starting`, { code: 'ECONNRESET', stage: 'start' }));
      }
    }
  }

  async #serviceState(bus: SystemdBus, unit: LiveUnit): Promise<ServiceState> {
    const state: ServiceState = {};
    serviceStateOf(await bus.getAll(unit.watch.path, SERVICE_IFACE), state);
    return state;
  }

  async #mainPid(bus: SystemdBus, unit: LiveUnit): Promise<number | null> {
    const pid = await bus.getProperty(unit.watch.path, SERVICE_IFACE, 'ExecMainPID').catch(() => 0);
    return typeof pid === 'number' && pid > 0 ? pid : null;
  }

  #busy(delta: number): void {
    this.#inFlight += delta;
    this.#updateRef();
  }

  // Like a child process: the bus socket keeps Node alive while calls are in flight and,
  // with keepAlive, while units run; otherwise a forgotten launcher never blocks exit.
  #updateRef(): void {
    const bus = this.#bus;
    if (bus === null) return;
    const live = this.#options.keepAlive ? this.#units.size : 0;
    void bus.then((connected) => connected.setRef(this.#inFlight + live > 0), () => {});
  }
}
