// One proc's status: the current snapshot, the ordered history of every transition,
// and wake-ups for whoever is waiting on the next one. Illegal transitions are refused
// and change nothing; a terminal state absorbs everything after it.
import { isLegalTransition, isTerminalStatus, type ProcStatus, type TerminalProcStatus } from './proc-status.js';

export class StatusMachine {
  readonly #history: ProcStatus[] = [];
  #current: ProcStatus;
  #wakers: Array<() => void> = [];
  #terminal: Promise<TerminalProcStatus>;
  #settleTerminal!: (status: TerminalProcStatus) => void;

  constructor(initial: ProcStatus = { state: 'starting' }) {
    this.#terminal = new Promise((resolve) => (this.#settleTerminal = resolve));
    this.#current = freezeStatus(initial);
    this.#history.push(this.#current);
    if (isTerminalStatus(this.#current)) this.#settleTerminal(this.#current);
  }

  get current(): ProcStatus {
    return this.#current;
  }

  /** Every status the proc has been in, oldest first. */
  get history(): readonly ProcStatus[] {
    return this.#history;
  }

  get isTerminal(): boolean {
    return isTerminalStatus(this.#current);
  }

  /** Resolves with the terminal status, whenever it comes. */
  get terminal(): Promise<TerminalProcStatus> {
    return this.#terminal;
  }

  /** Moves to `next` if the transition is legal; returns false (and changes nothing) if not. */
  advance(next: ProcStatus): boolean {
    if (!isLegalTransition(this.#current.state, next.state)) return false;
    this.#current = freezeStatus(next);
    this.#history.push(this.#current);
    if (isTerminalStatus(this.#current)) this.#settleTerminal(this.#current);
    this.#wakeAll();
    return true;
  }

  /**
   * Replaces the snapshot with one in the same state (a new STATUS= text while ready).
   * Not a transition: the history keeps the status as it was entered.
   */
  refresh(next: ProcStatus): boolean {
    if (next.state !== this.#current.state || this.isTerminal) return false;
    this.#current = freezeStatus(next);
    return true;
  }

  /** Every transition from the first status on, in order, none coalesced; ends after the terminal one. */
  async *stream(): AsyncGenerator<ProcStatus, void, undefined> {
    let index = 0;
    for (;;) {
      while (index < this.#history.length) {
        const status = this.#history[index++]!;
        yield status;
        if (isTerminalStatus(status)) return;
      }
      await new Promise<void>((resolve) => this.#wakers.push(resolve));
    }
  }

  #wakeAll(): void {
    const wakers = this.#wakers;
    this.#wakers = [];
    for (const wake of wakers) wake();
  }
}

/** Snapshots are shared by every reader, so nobody may change one under the others. */
function freezeStatus(status: ProcStatus): ProcStatus {
  if ('stderrTail' in status) return Object.freeze({ ...status, stderrTail: Object.freeze([...status.stderrTail]) as string[] });
  return Object.freeze({ ...status });
}
