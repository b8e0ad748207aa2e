// What `spawn` returns: the user's handle on one proc.
import type { Writable } from 'node:stream';

import type { ProcExitResult } from '../contract.js';
import type { ManagedProc } from './managed-proc.js';
import type { ProcStatus, TerminalProcStatus } from './proc-status.js';
import { checkTimeoutMs } from '../common/validate.js';

export class ProcHandle {
  readonly #proc: ManagedProc;

  /** @internal */
  constructor(proc: ManagedProc) {
    this.#proc = proc;
  }

  get procId(): string {
    return this.#proc.procId;
  }

  /** The pid the launcher reported (null for a launcher that has none). */
  get pid(): number | null {
    return this.#proc.pid;
  }

  /** Where the proc runs, for a multi-host launcher (slurm: the node name); undefined for a launcher that names no host. */
  get host(): string | undefined {
    return this.#proc.host;
  }

  /** With spawn option stdin: 'pipe', the proc's stdin (null otherwise, and before the launch is done). */
  get stdin(): Writable | null {
    return this.#proc.stdin;
  }

  /** The launcher's exit result once the proc has ended (says timedOut / aborted, carries rusage and treeUsage); null before. */
  get exitResult(): ProcExitResult | null {
    return this.#proc.exitResult;
  }

  /** The current status (a frozen snapshot). */
  status(): ProcStatus {
    return this.#proc.status;
  }

  /** Resolves with the 'ready' status; rejects with a ProcNotReadyError carrying the terminal status if the proc ends first. */
  ready(): Promise<Extract<ProcStatus, { state: 'ready' }>> {
    return this.#proc.ready();
  }

  /** Resolves with the terminal status. Never rejects. */
  wait(): Promise<TerminalProcStatus> {
    return this.#proc.wait();
  }

  /** SIGTERM to the proc's tree, SIGKILL after `timeoutMs`; resolves with the terminal status. A second call joins the first. */
  async terminate(timeoutMs: number): Promise<TerminalProcStatus> {
    checkTimeoutMs(timeoutMs, 'timeoutMs');
    return this.#proc.terminate(timeoutMs);
  }

  /** SIGKILL to the proc's tree; resolves with the terminal status. */
  kill(): Promise<TerminalProcStatus> {
    return this.#proc.kill();
  }

  /** Every status from 'starting' to the terminal one, in order, none coalesced; then the iteration ends. */
  statuses(): AsyncIterableIterator<ProcStatus> {
    return this.#proc.machine.stream();
  }
}
