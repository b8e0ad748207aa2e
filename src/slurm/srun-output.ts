// Reads the local srun's stderr, where srun's own lines (`srun: ...`, `slurmstepd-<node>: ...`)
// and the task's stderr meet. Slurm's lines and our wrapper's marked lines are consumed
// here; every other line is the task's and is passed on byte for byte (its newline, a
// '\r', a last line without a newline, invalid UTF-8: all kept). The mixing rule (documented
// in docs/slurm.md): a task line that itself starts with "srun: " or "slurmstepd" is taken
// for Slurm's and not passed on.

export interface SrunEvents {
  /** `launching StepId=J.S on host H`: the step exists and can be signalled. */
  onStep(stepId: string, host: string): void;
  /** The wrapper's pid line: the remote program is being exec'd in that pid. */
  onPid(pid: number): void;
  /** The wrapper found the cwd or program unusable (stage 'chdir' or 'exec'). */
  onRemoteError(code: string, stage: string): void;
  /** Bytes of the task's own stderr: a whole line with its newline, or (at the end, or a runaway line) part of one. */
  onTaskOutput(bytes: Buffer): void;
}

export interface SrunReport {
  /** Raw wait statuses from "Received task exit notification ... (status=0x....)". */
  statuses: number[];
  /** "error: Node failure on nodeX": the node's name. */
  nodeFailure: string | undefined;
  /** Slurm's "*** STEP J.S ON node CANCELLED ... ***" line, when one came. */
  cancelled: string | undefined;
  /** The last few error lines srun or slurmstepd printed, for failure reasons. */
  errors: string[];
}

const STEP = /^srun: launching StepId=(\d+\.\d+) on host (\S+?),/;
const STATUS = /Received task exit notification for \d+ tasks? of StepId=\S+ \(status=0x([0-9a-fA-F]+)\)/;
const NODE_FAILURE = /error: Node failure on (\S+)/;
const CANCELLED = /\*\*\* STEP \S+ ON \S+ CANCELLED.*\*\*\*/;
const SLURM_LINE = /^(srun|slurmstepd(-\S+)?): /;
/**
 * srun's own messages, found inside a line: srun may write one right after a task's last
 * line that had no newline, and the status line must not be lost in the task's output.
 */
const GLUED_SLURM_LINE = /srun: (?:launch\/slurm: |error: )|slurmstepd(?:-[^\s:]+)?: error: /;
const KEPT_ERRORS = 5;
/** A partial line this long is no Slurm line: passed on without waiting for its newline (bounded memory). */
const MAX_PARTIAL_BYTES = 64 * 1024;
const NEWLINE = 0x0a;
/** PROCLAUNCH_SLURM_DEBUG=1: srun's own lines are copied to our stderr (they are otherwise consumed). */
const DEBUG = process.env['PROCLAUNCH_SLURM_DEBUG'] === '1';

export class SrunOutput {
  readonly report: SrunReport = { statuses: [], nodeFailure: undefined, cancelled: undefined, errors: [] };
  readonly #events: SrunEvents;
  readonly #marker: string;
  #partial: Buffer = Buffer.alloc(0);
  /** The partial line's head was passed on as the task's: so is the rest of that line. */
  #partialIsTask = false;

  constructor(marker: string, events: SrunEvents) {
    this.#marker = `${marker} `;
    this.#events = events;
  }

  push(chunk: Buffer | string): void {
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    const data = this.#partial.length === 0 ? bytes : Buffer.concat([this.#partial, bytes]);
    let from = 0;
    for (let newline = data.indexOf(NEWLINE, from); newline >= 0; newline = data.indexOf(NEWLINE, from)) {
      this.#take(data.subarray(from, newline + 1), true);
      from = newline + 1;
    }
    this.#partial = data.subarray(from);
    if (this.#partial.length > MAX_PARTIAL_BYTES) {
      this.#take(this.#partial, false);
      this.#partial = Buffer.alloc(0);
    }
  }

  /** A last line without a newline is passed on as it is. */
  end(): void {
    if (this.#partial.length > 0) this.#take(this.#partial, false);
    this.#partial = Buffer.alloc(0);
  }

  #take(bytes: Buffer, whole: boolean): void {
    if (whole) {
      // latin1: string indexes are byte offsets.
      const glued = GLUED_SLURM_LINE.exec(bytes.toString('latin1'));
      if (glued !== null && glued.index > 0) {
        this.#take(bytes.subarray(0, glued.index), false);
        this.#partialIsTask = false;
        return this.#take(bytes.subarray(glued.index), true);
      }
    }
    const continued = this.#partialIsTask;
    this.#partialIsTask = !whole;
    if (continued) return this.#events.onTaskOutput(bytes);
    let line = bytes.toString('utf8', 0, whole ? bytes.length - 1 : bytes.length);
    if (line.endsWith('\r')) line = line.slice(0, -1);
    if (line.startsWith(this.#marker)) return this.#markerLine(line.slice(this.#marker.length));
    if (!SLURM_LINE.test(line)) return this.#events.onTaskOutput(bytes);
    if (DEBUG) process.stderr.write(`[proclaunch slurm] ${line}\n`);
    const step = STEP.exec(line);
    if (step !== null) return this.#events.onStep(step[1]!, step[2]!);
    const status = STATUS.exec(line);
    if (status !== null) {
      this.report.statuses.push(parseInt(status[1]!, 16));
      return;
    }
    const failure = NODE_FAILURE.exec(line);
    if (failure !== null) this.report.nodeFailure ??= failure[1]!;
    if (CANCELLED.test(line)) this.report.cancelled ??= line.slice(line.indexOf('***')).trim();
    if (/(error|fatal):/.test(line)) {
      this.report.errors.push(line);
      if (this.report.errors.length > KEPT_ERRORS) this.report.errors.shift();
    }
  }

  #markerLine(rest: string): void {
    const [what, first, second] = rest.split(' ');
    if (what === 'pid' && first !== undefined && /^\d+$/.test(first)) this.#events.onPid(Number(first));
    else if (what === 'error' && first !== undefined && second !== undefined) this.#events.onRemoteError(first, second);
  }
}
