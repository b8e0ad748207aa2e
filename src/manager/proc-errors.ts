// The rejection of `ready()`: an Error (stack, message) that also carries the terminal
// status, its fields copied on the error itself so it can be matched like the status.
import type { TerminalProcStatus } from './proc-status.js';

export class ProcNotReadyError extends Error {
  readonly procId: string;
  /** The terminal status the proc reached instead of ready. */
  readonly status: TerminalProcStatus;
  readonly state: TerminalProcStatus['state'];

  constructor(procId: string, status: TerminalProcStatus) {
    super(`proc "${procId}" ended before it was ready: ${describeTerminal(status)}`);
    this.name = 'ProcNotReadyError';
    this.procId = procId;
    this.status = status;
    this.state = status.state;
    // The other fields of the status (exitCode, signal, reason, stderrTail …), for matching.
    for (const [key, value] of Object.entries(status)) {
      if (!(key in this)) Object.defineProperty(this, key, { value, enumerable: true });
    }
  }
}

export function describeTerminal(status: TerminalProcStatus): string {
  switch (status.state) {
    case 'stopped':
      return `exited with code ${status.exitCode}`;
    case 'killed':
      return `killed by ${status.signalName}${status.coreDumped ? ' (core dumped)' : ''}`;
    case 'failed':
      return `failed: ${status.reason}`;
  }
}
