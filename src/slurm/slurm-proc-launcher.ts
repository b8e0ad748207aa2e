// SlurmProcLauncher: each proc is a job step, started by a local `srun` that a private
// NativeProcLauncher supervises (so the local side keeps every native guarantee: it dies
// with us, its group is killed, nothing leaks; Slurm then cancels the step).
import { randomBytes } from 'node:crypto';
import { PassThrough, type Readable } from 'node:stream';

import { ProcLauncherError, type LaunchOptions, type LaunchResult, type ProcExitResult, type ProcLauncher, type StdioHandling } from '../contract.js';
import { LineTail } from '../common/line-tail.js';
import { normalizeLaunch, type NormalizedLaunch } from '../common/normalize-launch.js';
import { superviseRun } from '../common/run-limits.js';
import { checkProcId, checkString, checkTimeoutMs, readOptionObject } from '../common/validate.js';
import { waitAtMost } from '../common/wait-at-most.js';
import { NativeProcLauncher } from '../native/native-proc-launcher.js';
import { hostsOf, makeAllocation, releaseAllocation, useAllocation, type Allocation } from './allocation.js';
import { resolveSlurmOptions, type ResolvedSlurmOptions, type SlurmProcLauncherOptions } from './launcher-options.js';
import { ScancelBatch } from './scancel-batch.js';
import { SrunOutput } from './srun-output.js';
import { buildStepCommand, checkSlurmCanHonour } from './step-command.js';
import { stepExitOf } from './step-exit.js';

export type { SlurmProcLauncherOptions } from './launcher-options.js';

/** From srun's start to the wrapper's pid line: past it the launch fails (the step waits for resources). */
const STEP_START_TIMEOUT_MS = 60_000;
/** After `scancel --signal=KILL`, how long the step may take to end before the local srun is SIGKILLed. */
const LAST_RESORT_MS = 10_000;
/** srun's stderr ends right after srun: a bound only against a descendant holding the pipe. */
const STDERR_DRAIN_MS = 2_000;

interface LiveStep {
  procId: string;
  nativeId: string;
  host: string;
  stepId: string | undefined;
  /** The wrapper's pid line came: the task runs and scancel reaches it. */
  running: boolean;
  /** The strongest signal asked for before the task ran: sent when it does. */
  pendingSignal: 'TERM' | 'KILL' | undefined;
  exited: boolean;
  exit: Promise<ProcExitResult>;
  escalation: NodeJS.Timeout | undefined;
  escalationDeadline: number;
  lastResort: NodeJS.Timeout | undefined;
  killedBecause: string | undefined;
}

export class SlurmProcLauncher implements ProcLauncher {
  readonly #options: ResolvedSlurmOptions;
  readonly #native = new NativeProcLauncher();
  readonly #steps = new Map<string, LiveStep>();
  readonly #scancel = new ScancelBatch();
  readonly #marker = `@proclaunch-${randomBytes(8).toString('hex')}@`;
  #allocation: Promise<Allocation> | undefined;
  #hosts: string[] = [];
  /** Set when a step saw its node fail: the (--no-kill) allocation shrank, ask Slurm again. */
  #hostsStale = false;
  #nextHost = 0;
  #nextNativeId = 0;
  #disposed = false;

  constructor(options: SlurmProcLauncherOptions = {}) {
    this.#options = resolveSlurmOptions(options);
  }

  /** scancel processes this launcher started (signals of one tick share one). */
  get scancelCalls(): number {
    return this.#scancel.calls;
  }

  /** Procs launched (or launching) and not yet exited. */
  get size(): number {
    return this.#steps.size;
  }

  /** The allocation's node names (allocating first when the launcher makes its own). */
  async hosts(): Promise<string[]> {
    const allocation = await this.#ensureAllocation();
    // Asked again each time: with --no-kill an allocation shrinks when a node is lost.
    this.#hosts = await hostsOf(allocation.jobId);
    return [...this.#hosts];
  }

  /** The job id the steps run in (allocating first when needed). */
  async allocation(): Promise<string> {
    return (await this.#ensureAllocation()).jobId;
  }

  #ensureAllocation(): Promise<Allocation> {
    if (this.#allocation === undefined) {
      const given = this.#options.allocation;
      const attempt = (given === undefined ? makeAllocation(this.#options) : useAllocation(given)).then((allocation) => {
        this.#hosts = allocation.hosts;
        return allocation;
      });
      this.#allocation = attempt;
      // A failed attempt is not remembered: the next call tries again.
      attempt.catch(() => {
        if (this.#allocation === attempt) this.#allocation = undefined;
      });
    }
    return this.#allocation;
  }

  async launch(procId: string, opts: LaunchOptions): Promise<LaunchResult> {
    // `host` is ours; everything else is validated as on every backend.
    const raw = readOptionObject(opts, 'opts');
    const hostOption = raw['host'] === undefined ? undefined : checkString(raw['host'], 'opts.host', { nonEmpty: true });
    delete raw['host'];
    const launch = normalizeLaunch(procId, raw);
    checkSlurmCanHonour(launch);
    if (this.#disposed) {
      throw new ProcLauncherError('launch', `cannot launch "${launch.procId}": the launcher is disposed`, { code: 'ERR_DISPOSED', stage: 'validate' });
    }
    if (this.#steps.has(launch.procId)) {
      throw new ProcLauncherError('launch', `cannot launch "${launch.procId}": a proc with this id is still running`, { code: 'EEXIST', errno: 17, stage: 'validate' });
    }
    const step: LiveStep = {
      procId: launch.procId, nativeId: `step-${this.#nextNativeId++}`, host: '', stepId: undefined, running: false, pendingSignal: undefined, exited: false,
      exit: Promise.resolve({ kind: 'failed', reason: 'not started' }), escalation: undefined, escalationDeadline: Infinity,
      lastResort: undefined, killedBecause: undefined,
    };
    // Reserved before the first await: a second launch of this id meanwhile is EEXIST.
    this.#steps.set(launch.procId, step);
    try {
      const allocation = await this.#ensureAllocation();
      if (this.#disposed) {
        throw new ProcLauncherError('launch', `cannot launch "${launch.procId}": the launcher was disposed meanwhile`, { code: 'ERR_DISPOSED', stage: 'validate' });
      }
      if (this.#hostsStale) {
        this.#hostsStale = false;
        this.#hosts = await hostsOf(allocation.jobId);
      }
      step.host = this.#pickHost(hostOption, allocation.jobId);
      // The default process name names the node the proc runs on, not this host.
      if (raw['processName'] === undefined) launch.envOverlay['HYPERACTOR_PROCESS_NAME'] = `${launch.procId} @ ${step.host}`;
      return await this.#start(step, launch, allocation.jobId);
    } catch (error) {
      // A terminate before the failure armed timers for a proc that never ran.
      clearTimeout(step.escalation);
      clearTimeout(step.lastResort);
      if (this.#steps.get(launch.procId) === step && !step.exited) this.#steps.delete(launch.procId);
      throw error;
    }
  }

  #pickHost(host: string | undefined, jobId: string): string {
    if (host === undefined) return this.#hosts[this.#nextHost++ % this.#hosts.length]!;
    if (!this.#hosts.includes(host)) {
      throw new RangeError(`opts.host "${host}" is not a node of allocation ${jobId} (its nodes: ${this.#hosts.join(', ')})`);
    }
    return host;
  }

  async #start(step: LiveStep, launch: NormalizedLaunch, jobId: string): Promise<LaunchResult> {
    const command = buildStepCommand(launch, jobId, step.host, this.#marker);
    let started: LaunchResult;
    try {
      started = await this.#native.launch(step.nativeId, {
        command: { program: command.program, args: command.args, env: launch.envOverlay },
        processName: launch.envOverlay['HYPERACTOR_PROCESS_NAME']!,
        wantStdio: true,
        stdin: launch.stdin,
        // The limits are the task's, set by the wrapper on the node: never the local srun's.
      });
    } catch (error) {
      if (error instanceof ProcLauncherError && error.code === 'ENOENT' && error.stage === 'exec') {
        throw new ProcLauncherError('launch', `cannot run the Slurm command 'srun': not found in PATH (are the Slurm client commands installed, Slurm >= 22.05?)`, {
          code: 'ENOENT', errno: 2, syscall: 'execve', path: 'srun', stage: 'srun', cause: error,
        });
      }
      throw error;
    }
    const startedAt = new Date();
    // A kill of the local srun asked for while native was still launching it was a no-op there.
    if (step.killedBecause !== undefined) void this.#native.kill(step.nativeId);
    if (started.stdio.kind !== 'captured') throw new Error('internal: the local srun\'s stdio is not captured');
    const { stdout, stderr } = started.stdio;

    const tail = launch.tailLines > 0 ? new LineTail(launch.tailLines) : null;
    const userStderr = launch.wantStdio ? new PassThrough() : null;
    let pid: number | null = null;
    let remoteError: { code: string; stage: string } | undefined;
    let onStarted!: () => void;
    const running = new Promise<void>((resolve) => (onStarted = resolve));
    const output = new SrunOutput(this.#marker, {
      onStep: (stepId) => (step.stepId = stepId),
      onPid: (remotePid) => {
        pid = remotePid;
        step.running = true;
        // A terminate/kill that came before the task ran was kept for now.
        if (step.pendingSignal !== undefined) this.#signalStep(step, step.pendingSignal);
        onStarted();
      },
      onRemoteError: (code, stage) => {
        remoteError = { code, stage };
        onStarted();
      },
      onTaskOutput: (bytes) => {
        tail?.push(bytes);
        if (userStderr !== null) userStderr.write(bytes);
        else process.stderr.write(bytes);
      },
    });
    const stderrDone = new Promise<void>((resolve) => {
      stderr.on('data', (chunk: Buffer) => output.push(chunk));
      stderr.once('end', resolve);
      stderr.once('close', resolve);
    });
    void stderrDone.then(() => {
      output.end();
      userStderr?.end();
    });
    // Not pipe(): one pipe per proc would pile listeners onto process.stdout.
    if (!launch.wantStdio) stdout.on('data', (chunk: Buffer) => process.stdout.write(chunk));

    const srunEnded = started.exit.then(async (result) => {
      await waitAtMost(stderrDone, STDERR_DRAIN_MS);
      return result;
    });
    const exit = srunEnded.then((result) => {
      step.exited = true;
      clearTimeout(step.escalation);
      clearTimeout(step.lastResort);
      if (this.#steps.get(step.procId) === step) this.#steps.delete(step.procId);
      if (output.report.nodeFailure !== undefined) this.#hostsStale = true;
      const outcome = stepExitOf(output.report, { result, killedBecause: step.killedBecause }, step.host);
      if (tail === null) return outcome;
      // A last line without a newline is kept in the tail too.
      tail.end();
      return { ...outcome, stderrTail: tail.lines() };
    });
    step.exit = exit;

    // Launch resolves once the remote wrapper is about to exec the program.
    const timer = setTimeout(() => this.#killLocal(step, `the step did not start within ${STEP_START_TIMEOUT_MS} ms`), STEP_START_TIMEOUT_MS);
    await Promise.race([running, srunEnded]);
    clearTimeout(timer);
    if (pid === null) {
      // Nothing runs remotely: the wrapper exits by itself after its error line, and
      // srun with it; the local srun is killed only if it lingers.
      const linger = setTimeout(() => this.#killLocal(step, 'the step did not start'), LAST_RESORT_MS);
      const outcome = await exit;
      clearTimeout(linger);
      throw startError(launch, step, remoteError, outcome, output.report.errors);
    }
    const stdio: StdioHandling = launch.wantStdio ? { kind: 'captured', stdout: stdout as Readable, stderr: userStderr! } : { kind: 'inherited' };
    return {
      pid,
      startedAt,
      stdio,
      stdin: started.stdin,
      host: step.host,
      exit: superviseRun(exit, launch.limits, (graceMs) => this.#terminateStep(step, graceMs)),
    };
  }

  async terminate(procId: string, timeoutMs: number): Promise<void> {
    checkProcId(procId);
    checkTimeoutMs(timeoutMs, 'timeoutMs');
    const step = this.#steps.get(procId);
    if (step !== undefined) this.#terminateStep(step, timeoutMs);
  }

  async kill(procId: string): Promise<void> {
    checkProcId(procId);
    const step = this.#steps.get(procId);
    if (step !== undefined) this.#killStep(step);
  }

  /**
   * `scancel --signal=<signal>` to every process of the step once its task runs; before
   * that (allocation, srun, wrapper still starting) the signal is kept and sent at the
   * wrapper's pid line, so an early terminate/kill is never lost.
   */
  #signalStep(step: LiveStep, signal: 'TERM' | 'KILL'): void {
    if (!step.running || step.stepId === undefined) {
      if (step.pendingSignal !== 'KILL') step.pendingSignal = signal;
      return;
    }
    this.#scancel.signal(step.stepId, signal);
  }

  /** SIGTERM to every process of the step (its trap runs), SIGKILL after `timeoutMs`. */
  #terminateStep(step: LiveStep, timeoutMs: number): void {
    if (step.exited) return;
    // Never SIGTERM the local srun: it would SIGKILL the tasks at once.
    this.#signalStep(step, 'TERM');
    // One escalation timer per step: a second terminate may only bring it forward.
    const deadline = Date.now() + timeoutMs;
    if (deadline >= step.escalationDeadline) return;
    clearTimeout(step.escalation);
    step.escalationDeadline = deadline;
    step.escalation = setTimeout(() => this.#killStep(step), timeoutMs);
  }

  /** SIGKILL to every process of the step; the local srun goes too if the step does not end (or never starts). */
  #killStep(step: LiveStep): void {
    if (step.exited) return;
    this.#signalStep(step, 'KILL');
    if (step.lastResort !== undefined) return;
    const what = step.stepId === undefined ? 'the step had not started' : `step ${step.stepId} still running`;
    step.lastResort = setTimeout(() => this.#killLocal(step, `${what} ${LAST_RESORT_MS} ms after the kill`), LAST_RESORT_MS);
  }

  #killLocal(step: LiveStep, why: string): void {
    if (step.exited) return;
    step.killedBecause ??= why;
    void this.#native.kill(step.nativeId);
  }

  /** Ends every step (SIGTERM, SIGKILL after stopTimeoutMs), waits for every local srun, releases an allocation it made. */
  async dispose(): Promise<void> {
    this.#disposed = true;
    const steps = [...this.#steps.values()];
    for (const step of steps) this.#terminateStep(step, this.#options.stopTimeoutMs);
    await Promise.all(steps.map((step) => step.exit));
    await this.#native.dispose();
    const allocation = await this.#allocation?.catch(() => undefined);
    if (allocation?.made === true) {
      this.#allocation = undefined;
      await releaseAllocation(allocation.jobId);
    }
  }
}

function startError(
  launch: NormalizedLaunch,
  step: LiveStep,
  remote: { code: string; stage: string } | undefined,
  outcome: ProcExitResult,
  errors: readonly string[],
): ProcLauncherError {
  if (remote !== undefined) {
    if (remote.stage.startsWith('rlimit-')) {
      const name = remote.stage.slice('rlimit-'.length);
      return new ProcLauncherError('launch', `cannot launch "${launch.procId}" on ${step.host}: the node refused opts.rlimits.${name} (EPERM: above the node's hard limit?) (stage: remote-rlimit)`, {
        code: 'EPERM', errno: 1, syscall: 'setrlimit', stage: 'remote-rlimit',
      });
    }
    const path = remote.stage === 'chdir' ? launch.cwd : launch.program;
    const errno = { ENOENT: 2, EACCES: 13, ENOTDIR: 20 }[remote.code];
    return new ProcLauncherError('launch', `cannot launch "${launch.procId}" on ${step.host}: ${remote.code}, ${remote.stage} '${path ?? ''}' (stage: remote-${remote.stage})`, {
      code: remote.code, stage: `remote-${remote.stage}`, syscall: remote.stage === 'chdir' ? 'chdir' : 'execve',
      ...(errno === undefined ? {} : { errno }), ...(path === undefined ? {} : { path }),
    });
  }
  const why = outcome.kind === 'failed' ? outcome.reason : errors.length > 0 ? errors.join(' / ') : JSON.stringify(outcome);
  return new ProcLauncherError('launch', `cannot launch "${launch.procId}" on ${step.host}: the step did not start: ${why}`, {
    code: 'ESLURM', stage: 'srun',
  });
}
