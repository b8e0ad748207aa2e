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
import { SystemdBus, describe, isGoneError, isUnitExistsError, type BusListener } from './systemd-bus.js';
import { exitResultOf, serviceStateOf, startFailureOf, type ServiceState } from './unit-exit.js';
import { unitNameOf, unitObjectPath } from './unit-name.js';
import { resolveCwd, resolveProgram, unitEnvironment, unitProperties } from './unit-spec.js';
import { UnitWatch } from './unit-watch.js';
import { waitAtMost } from '../common/wait-at-most.js';

const SERVICE_IFACE = 'org.freedesktop.systemd1.Service';
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
  readonly #units = new Map<string, LiveUnit>();
  /** Units by unit name and by object path, for the bus's signals. */
  readonly #byName = new Map<string, LiveUnit>();
  readonly #byPath = new Map<string, LiveUnit>();
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
    const name = unitNameOf(this.#options.unitPrefix, launch.procId);

    const unit = newLiveUnit(launch.procId, new UnitWatch(name, unitObjectPath(name)), launch.tailLines);
    // Reserved before the first await, so a concurrent launch of the same id is a duplicate.
    this.#units.set(launch.procId, unit);
    this.#byName.set(name, unit);
    this.#byPath.set(unit.watch.path, unit);
    const attempt = this.#start(unit, launch, program, cwd, env);
    this.#launching.add(attempt);
    this.#busy(+1);
    try {
      return await attempt;
    } catch (err) {
      this.#forget(unit);
      for (const capture of unit.captures) capture.destroy();
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
    if (unit === undefined) return;
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
    const { stdio, stdout, stderr } = await openUnitStdio(this.#sockets, launch.wantStdio, unit.tail, bus.canPassFds);
    unit.captures = [stdout, stderr].filter((capture) => capture !== null);
    if (stderr !== null) unit.stderrEnded = stderr.ended;
    const properties = unitProperties(launch, program, cwd, env, {
      description: `proclaunch: ${launch.procId}`,
      slice: this.#options.slice,
      stopTimeoutMs: this.#options.stopTimeoutMs,
      stdoutSocket: stdout instanceof SocketCapture ? stdout.path : null,
      stderrSocket: stderr instanceof SocketCapture ? stderr.path : null,
      stdoutFd: stdout instanceof PipeCapture ? stdout.unitFd : null,
      stderrFd: stderr instanceof PipeCapture ? stderr.unitFd : null,
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
    const job = await this.#startUnit(bus, unit, properties);
    // systemd has its own copies of the pipes' write ends now: ours would keep the
    // streams from ever ending.
    for (const capture of unit.captures) if (capture instanceof PipeCapture) capture.releaseUnitEnd();
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
      vanished: () => this.#fail(unit, `unit ${unit.watch.name} was unloaded by systemd before its exit was seen`),
    });
    // A unit already finished (a fast program) is reported by listen() at once.
    if (this.#disposed) void this.#signalAll(unit, SIGKILL).catch(() => {});
    return { pid, startedAt, stdio, exit: unit.exit };
  }

  /** StartTransientUnit; a loaded but dead unit of the same name (left by a crash) is cleared once. */
  async #startUnit(bus: SystemdBus, unit: LiveUnit, properties: unknown[]): Promise<string> {
    const start = async (): Promise<string> => {
      const [job] = await bus.callManager('StartTransientUnit', 'ssa(sv)a(sa(sv))', [unit.watch.name, 'fail', properties, []]);
      return String(job);
    };
    try {
      return await start();
    } catch (err) {
      if (!isUnitExistsError(err)) throw this.#launchError(unit, err);
    }
    const state = await bus.getProperty(unit.watch.path, 'org.freedesktop.systemd1.Unit', 'ActiveState').catch(() => 'unknown');
    if (state !== 'inactive' && state !== 'failed') {
      throw duplicateError(unit.procId, `its unit ${unit.watch.name} is still ${String(state)} in the systemd manager`);
    }
    await bus.callManager('ResetFailedUnit', 's', [unit.watch.name]).catch(() => {});
    try {
      return await start();
    } catch (err) {
      if (isUnitExistsError(err)) throw duplicateError(unit.procId, `its unit ${unit.watch.name} is still loaded in the systemd manager`);
      throw this.#launchError(unit, err);
    }
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
      if (unit.watch.service.code === undefined) Object.assign(unit.watch.service, await this.#serviceState(bus, unit));
      result = exitResultOf(unit.watch.service, unit.watch.name);
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
    try {
      await bus.callUnit(unit.watch.path, 'Unref');
    } catch (err) {
      if (isGoneError(err)) return;
      // Not pinned after all (e.g. AddRef refused): a failed unit still needs resetting.
      await bus.callManager('ResetFailedUnit', 's', [unit.watch.name]).catch(() => {});
    }
    await waitAtMost(unloaded, UNLOAD_WAIT_MS);
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
    if (this.#byName.get(unit.watch.name) === unit) this.#byName.delete(unit.watch.name);
    if (this.#byPath.get(unit.watch.path) === unit) this.#byPath.delete(unit.watch.path);
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
        unitPropertiesChanged: (path, iface, changed) => this.#byPath.get(path)?.watch.propertiesChanged(iface, changed),
        jobRemoved: (unitName, job, result) => this.#byName.get(unitName)?.watch.jobRemoved(job, result),
        unitRemoved: (unitName) => this.#byName.get(unitName)?.watch.unitRemoved(),
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

  #launchError(unit: LiveUnit, err: unknown): ProcLauncherError {
    if (err instanceof ProcLauncherError) return err;
    return new ProcLauncherError('launch', `cannot launch "${unit.procId}": systemd refused unit ${unit.watch.name}: ${describe(err)}`, {
      code: 'ERR_SYSTEMD_START',
      stage: 'start',
      cause: err,
    });
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

function duplicateError(procId: string, why: string): ProcLauncherError {
  return new ProcLauncherError('launch', `cannot launch "${procId}": ${why}`, { code: 'EEXIST', errno: 17, stage: 'validate' });
}

