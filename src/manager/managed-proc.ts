// One proc under the manager: its status machine, its readiness channel, its output,
// and the policy that turns launcher events (launched, exit) and manager requests
// (terminate, kill, ready timeout) into legal transitions.
import type { Writable } from 'node:stream';

import type { LaunchResult, ProcExitResult, ProcLauncher } from '../contract.js';
import { LineTail } from '../common/line-tail.js';
import type { CallbackRegistration } from './callback-server.js';
import type { NotifyChannel } from './notify-channel.js';
import { parseNotifyMessage, type NotifyMessage } from './notify-message.js';
import type { AttachedOutput, OutputRouter } from './output-router.js';
import { ProcNotReadyError } from './proc-errors.js';
import { isTerminalStatus, type ProcStatus, type TerminalProcStatus } from './proc-status.js';
import { StatusMachine } from './status-machine.js';
import { waitAtMost } from '../common/wait-at-most.js';

/** After the exit, how long the last output may take to drain (an escaped descendant may hold the pipes). */
const OUTPUT_DRAIN_MS = 250;

type StopMode = 'terminate' | 'kill';

interface PendingStop {
  mode: StopMode;
  timeoutMs: number;
}

export class ManagedProc {
  readonly procId: string;
  readonly machine = new StatusMachine();
  #launcher: ProcLauncher | null = null;
  #pid: number | null = null;
  #host: string | undefined;
  #startedAt: Date | null = null;
  #stdin: Writable | null = null;
  #exitResult: ProcExitResult | null = null;
  #channel: NotifyChannel | null = null;
  #callback: CallbackRegistration | null = null;
  /** READY=1 / STOPPING=1 over TCP before the launch returned: applied once it has. */
  #earlyReady = false;
  #earlyStopping = false;
  #tail: LineTail | null = null;
  #output: AttachedOutput | null = null;
  #statusText: string | undefined;
  #addr: string | undefined;
  #readyTimer: NodeJS.Timeout | undefined;
  #failReason: string | null = null;
  #pendingStop: PendingStop | null = null;
  #escalation: NodeJS.Timeout | undefined;
  #escalationDeadline = Infinity;
  #stopTimeoutMs: number;

  constructor(procId: string, stopTimeoutMs: number) {
    this.procId = procId;
    this.#stopTimeoutMs = stopTimeoutMs;
  }

  get pid(): number | null {
    return this.#pid;
  }

  /** Where a multi-host launcher runs the proc (LaunchResult.host); undefined before the launch or for a launcher that names none. */
  get host(): string | undefined {
    return this.#host;
  }

  get startedAt(): Date | null {
    return this.#startedAt;
  }

  /** The proc's stdin when launched with stdin 'pipe'. */
  get stdin(): Writable | null {
    return this.#stdin;
  }

  /** The launcher's own exit result (timedOut, aborted, rusage, treeUsage), once known. */
  get exitResult(): ProcExitResult | null {
    return this.#exitResult;
  }

  get status(): ProcStatus {
    return this.machine.current;
  }

  /**
   * The notify socket is bound before the launch, so the proc can send from its first
   * instruction; it is read only once the pid is known (onLaunched), so every datagram
   * is judged against the proc's tree and nothing from a stranger is ever buffered.
   */
  useChannel(channel: NotifyChannel): void {
    this.#channel = channel;
  }

  /** The proc's secret on the manager's TCP listener; forgotten when the proc ends. */
  useCallback(registration: CallbackRegistration): void {
    this.#callback = registration;
  }

  /** A proc not ready within `ms` (from now) fails and is stopped. */
  startReadyDeadline(ms: number): void {
    this.#readyTimer = setTimeout(() => this.#onReadyTimeout(ms), ms);
    this.#readyTimer.unref();
  }

  /** The launcher refused the proc: starting → failed; nothing else to clean. */
  failLaunch(error: unknown): void {
    this.#release();
    const reason = error instanceof Error ? error.message : String(error);
    this.machine.advance({ state: 'failed', reason, stderrTail: [] });
  }

  onLaunched(launcher: ProcLauncher, result: LaunchResult, tailLines: number, router: OutputRouter): void {
    this.#launcher = launcher;
    this.#pid = result.pid;
    // A launcher from outside (plain JS) may hand anything here: only a name counts.
    if (typeof result.host === 'string' && result.host !== '') this.#host = result.host;
    this.#startedAt = result.startedAt;
    // A launcher written before stdin existed may leave it out.
    this.#stdin = result.stdin ?? null;
    if (result.stdio.kind === 'captured') {
      this.#tail = tailLines > 0 ? new LineTail(tailLines) : null;
      this.#output = router.attach(this.procId, result.stdio.stdout, result.stdio.stderr, this.#tail);
    }
    void result.exit.then(
      (exit) => this.#onExit(exit),
      (error: unknown) => this.#onExit({ kind: 'failed', reason: `the launcher's exit promise rejected: ${String(error)}` }),
    );
    const pending = this.#pendingStop;
    if (pending !== null) {
      // Asked to stop while the launch was in flight: never pretend it ran.
      this.#pendingStop = null;
      this.#requestStop(pending.mode, pending.timeoutMs);
      return;
    }
    this.machine.advance(this.#withHost<ProcStatus & { state: 'running' }>({ state: 'running', pid: result.pid, startedAt: result.startedAt }));
    if (this.#earlyReady) this.#becomeReady();
    if (this.#earlyStopping) this.#advanceToStopping();
    // Without a pid (a launcher that does not expose one) no sender can be verified: the
    // socket is never read. What the proc sent meanwhile waits in the kernel's queue.
    if (result.pid !== null) this.#armChannel(result.pid);
  }

  #armChannel(pid: number): void {
    try {
      this.#channel?.arm(pid);
    } catch {
      // Cannot happen short of a closed socket; the proc then only misses its readiness
      // (and its ready deadline, if any, fails it).
    }
  }

  /** A datagram on this proc's notify socket from the proc's own tree (the addon checked `senderPid`). */
  onNotify(_senderPid: number, data: Buffer): void {
    if (this.machine.isTerminal || this.#launcher === null) return;
    this.#apply(parseNotifyMessage(data));
  }

  /**
   * A message over TCP carrying this proc's secret. The secret vouches for the sender, so
   * no pid is needed, and what comes before the launch returned is kept (a remote proc
   * may report before its local supervisor does).
   */
  onCallback(data: Buffer): void {
    if (this.machine.isTerminal) return;
    const message = parseNotifyMessage(data);
    if (this.#launcher !== null) return this.#apply(message);
    this.#remember(message);
    if (message.ready) this.#earlyReady = true;
    if (message.stopping) this.#earlyStopping = true;
  }

  #apply(message: NotifyMessage): void {
    this.#remember(message);
    const current = this.machine.current;
    if (message.ready && current.state === 'running') this.#becomeReady();
    else if (current.state === 'ready') this.machine.refresh(this.#readyStatus());
    if (message.stopping) this.#advanceToStopping();
  }

  /** Graceful stop, escalating to a kill after `timeoutMs`; resolves with the terminal status. */
  terminate(timeoutMs: number): Promise<TerminalProcStatus> {
    return this.#requestStop('terminate', timeoutMs);
  }

  kill(): Promise<TerminalProcStatus> {
    return this.#requestStop('kill', 0);
  }

  wait(): Promise<TerminalProcStatus> {
    return this.machine.terminal;
  }

  /** Resolves when the proc has been ready; rejects with the terminal status if it ends first. */
  async ready(): Promise<Extract<ProcStatus, { state: 'ready' }>> {
    for await (const status of this.machine.stream()) {
      if (status.state === 'ready') return status;
      if (isTerminalStatus(status)) throw new ProcNotReadyError(this.procId, status);
    }
    throw new Error('unreachable: the status stream ends only after a terminal status');
  }

  #requestStop(mode: StopMode, timeoutMs: number): Promise<TerminalProcStatus> {
    if (this.machine.isTerminal) return this.machine.terminal;
    clearTimeout(this.#readyTimer);
    const launcher = this.#launcher;
    if (launcher === null) {
      // Launch in flight: remember the strongest request and apply it once we have a proc.
      const pending = this.#pendingStop;
      if (pending === null || mode === 'kill' || timeoutMs < pending.timeoutMs) {
        this.#pendingStop = { mode: pending?.mode === 'kill' ? 'kill' : mode, timeoutMs };
      }
      return this.machine.terminal;
    }
    this.#advanceToStopping();
    const signalled =
      mode === 'kill' ? launcher.kill(this.procId) : launcher.terminate(this.procId, timeoutMs).catch(() => launcher.kill(this.procId));
    if (mode === 'terminate') this.#scheduleEscalation(launcher, timeoutMs);
    // A launcher that could not even signal the proc: the caller learns why; the
    // status stays 'stopping' until an exit is observed.
    return signalled.then(() => this.machine.terminal);
  }

  /** The manager's own backstop: a launcher that does not escalate still gets a kill. */
  #scheduleEscalation(launcher: ProcLauncher, timeoutMs: number): void {
    const deadline = Date.now() + timeoutMs;
    if (deadline >= this.#escalationDeadline) return;
    clearTimeout(this.#escalation);
    this.#escalationDeadline = deadline;
    this.#escalation = setTimeout(() => {
      if (!this.machine.isTerminal) launcher.kill(this.procId).catch(() => {});
    }, timeoutMs);
    this.#escalation.unref();
  }

  #advanceToStopping(): void {
    const current = this.machine.current;
    if (current.state === 'stopping' || this.machine.isTerminal) return;
    this.machine.advance(this.#withHost<ProcStatus & { state: 'stopping' }>({ state: 'stopping', pid: this.#pid, startedAt: this.#startedAt ?? new Date() }));
  }

  /** A live status with the host added when there is one (left out, not undefined, so snapshots compare equal). */
  #withHost<S extends { host?: string }>(status: S): S {
    if (this.#host !== undefined) status.host = this.#host;
    return status;
  }

  #onReadyTimeout(ms: number): void {
    const state = this.machine.current.state;
    if (state !== 'starting' && state !== 'running') return;
    this.#failReason = `not ready within ${ms} ms`;
    // Nobody awaits this stop: a launcher that cannot signal leaves the proc 'stopping'.
    this.#requestStop('terminate', this.#stopTimeoutMs).catch(() => {});
  }

  #remember(message: NotifyMessage): void {
    if (message.statusText !== undefined) this.#statusText = message.statusText ?? undefined;
    if (message.addr !== undefined) this.#addr = message.addr;
  }

  #becomeReady(): void {
    clearTimeout(this.#readyTimer);
    this.machine.advance(this.#readyStatus());
  }

  #readyStatus(): ProcStatus {
    const status = this.#withHost<Extract<ProcStatus, { state: 'ready' }>>({ state: 'ready', pid: this.#pid, startedAt: this.#startedAt ?? new Date() });
    if (this.#addr !== undefined) status.addr = this.#addr;
    if (this.#statusText !== undefined) status.statusText = this.#statusText;
    return status;
  }

  async #onExit(exit: ProcExitResult): Promise<void> {
    clearTimeout(this.#readyTimer);
    clearTimeout(this.#escalation);
    // The channels go first: nothing said after the exit can change the outcome.
    this.#channel?.close();
    this.#channel = null;
    this.#callback?.close();
    this.#callback = null;
    const output = this.#output;
    if (output !== null) {
      await waitAtMost(output.closed, OUTPUT_DRAIN_MS);
      output.detach();
    }
    const stderrTail = this.#tail !== null ? this.#tail.lines() : [...(exit.stderrTail ?? [])];
    this.#exitResult = exit;
    this.machine.advance(this.#terminalStatusOf(exit, stderrTail));
  }

  #terminalStatusOf(exit: ProcExitResult, stderrTail: string[]): TerminalProcStatus {
    if (this.#failReason !== null) return { state: 'failed', reason: this.#failReason, stderrTail };
    switch (exit.kind) {
      case 'exited':
        return { state: 'stopped', exitCode: exit.code, stderrTail };
      case 'signaled':
        return { state: 'killed', signal: exit.signal, signalName: exit.signalName, coreDumped: exit.coreDumped, stderrTail };
      case 'failed':
        return { state: 'failed', reason: exit.reason, stderrTail };
    }
  }

  /** Gives up on a proc whose exit never came (a launcher that lost it): frees what we hold; the status stays as it is. */
  abandon(): void {
    this.#release();
    this.#output?.detach();
    this.#output = null;
  }

  #release(): void {
    clearTimeout(this.#readyTimer);
    clearTimeout(this.#escalation);
    this.#channel?.close();
    this.#channel = null;
    this.#callback?.close();
    this.#callback = null;
  }
}

