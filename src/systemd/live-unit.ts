// The launcher's record of one proc: its unit watch, its exit promise and what must be
// cleaned up with it.
import type { ProcExitResult } from '../contract.js';
import { LineTail } from '../common/line-tail.js';
import type { SocketCapture } from './stdio-sockets.js';
import type { PipeCapture } from './stdio-pipes.js';
import type { UnitStdin } from './stdio-stdin.js';
import type { UnitWatch } from './unit-watch.js';

export interface LiveUnit {
  procId: string;
  watch: UnitWatch;
  /** Settles when launch() has returned or thrown: terminate/kill wait for it. */
  launched: Promise<void>;
  markLaunched: () => void;
  /** The start job succeeded: the program runs (or ran). */
  running: boolean;
  /** While starting: fails the start (the bus was lost). */
  abortStart: ((err: Error) => void) | null;
  exit: Promise<ProcExitResult>;
  settle: (result: ProcExitResult) => void;
  settled: boolean;
  captures: Array<SocketCapture | PipeCapture>;
  stdin: UnitStdin | null;
  tail: LineTail | null;
  stderrEnded: Promise<void>;
  escalation: NodeJS.Timeout | undefined;
  escalationDeadline: number;
  /** Set once the unit is finished or gone, so that is handled once. */
  finishing: boolean;
  /** Unref'd: its next UnitRemoved is the real unload. */
  releasing: boolean;
  /** Counts UnitRemoved signals: only the latest one's re-check may decide. */
  removalChecks: number;
}

export function newLiveUnit(procId: string, watch: UnitWatch, tailLines: number): LiveUnit {
  let settle!: (result: ProcExitResult) => void;
  let markLaunched!: () => void;
  return {
    procId,
    watch,
    launched: new Promise<void>((resolve) => (markLaunched = resolve)),
    markLaunched: () => markLaunched(),
    running: false,
    abortStart: null,
    exit: new Promise<ProcExitResult>((resolve) => (settle = resolve)),
    settle: (result) => settle(result),
    settled: false,
    captures: [],
    stdin: null,
    tail: tailLines > 0 ? new LineTail(tailLines) : null,
    stderrEnded: Promise.resolve(),
    escalation: undefined,
    escalationDeadline: Infinity,
    finishing: false,
    releasing: false,
    removalChecks: 0,
  };
}
