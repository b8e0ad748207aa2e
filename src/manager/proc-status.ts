// The manager's view of one proc (DESIGN.md section 2) and its legal transitions.
// `host` (beyond DESIGN's shape) is where a multi-host launcher runs the proc: set on the
// live statuses when the launcher's LaunchResult names one, absent otherwise.

export type ProcStatus =
  | { state: 'starting' }
  | { state: 'running'; pid: number | null; startedAt: Date; host?: string }
  | { state: 'ready'; pid: number | null; startedAt: Date; host?: string; addr?: string; statusText?: string }
  | { state: 'stopping'; pid: number | null; startedAt: Date; host?: string }
  | { state: 'stopped'; exitCode: number; stderrTail: string[] }
  | { state: 'killed'; signal: number; signalName: string; coreDumped: boolean; stderrTail: string[] }
  | { state: 'failed'; reason: string; stderrTail: string[] };

export type ProcState = ProcStatus['state'];
export type TerminalProcStatus = Extract<ProcStatus, { state: 'stopped' | 'killed' | 'failed' }>;
export type LiveProcStatus = Exclude<ProcStatus, TerminalProcStatus>;

export const TERMINAL_STATES: readonly ProcState[] = Object.freeze(['stopped', 'killed', 'failed']);

const LEGAL_NEXT: Readonly<Record<ProcState, readonly ProcState[]>> = {
  starting: ['running', 'ready', 'stopping', ...TERMINAL_STATES],
  running: ['ready', 'stopping', ...TERMINAL_STATES],
  ready: ['stopping', ...TERMINAL_STATES],
  stopping: TERMINAL_STATES,
  stopped: [],
  killed: [],
  failed: [],
};

export function isTerminalState(state: ProcState): state is TerminalProcStatus['state'] {
  return state === 'stopped' || state === 'killed' || state === 'failed';
}

export function isTerminalStatus(status: ProcStatus): status is TerminalProcStatus {
  return isTerminalState(status.state);
}

/** starting→running|ready|stopping|terminal; running→ready|stopping|terminal; ready→stopping|terminal; stopping→terminal. */
export function isLegalTransition(from: ProcState, to: ProcState): boolean {
  return LEGAL_NEXT[from].includes(to);
}
