// `proclaunch run`: COUNT copies of a program under a ProcManager, watched live,
// stopped on Ctrl-C or --timeout, summarised at the end.
import type { Writable } from 'node:stream';

import type { ProcLauncher } from '../contract.js';
import { ProcManager } from '../manager/proc-manager.js';
import type { ProcHandle } from '../manager/proc-handle.js';
import { isTerminalStatus } from '../manager/proc-status.js';
import { createLiveView, type LiveView, type TerminalLike } from './live-view.js';
import { parseRunArgs, RUN_HELP, type RunArgs } from './run-args.js';
import { LauncherSetupError, openRunLauncher } from './run-launcher.js';
import { exitStatusOf, jsonReport, summaryLines, type InterruptSignal } from './run-summary.js';
import type { ProcRow, StopCause } from './status-table.js';
import { USAGE_EXIT, UsageError, usageErrorText } from './usage-error.js';

export interface RunIo {
  stdout: TerminalLike;
  stderr: TerminalLike;
  /** Registers the interrupt handler (SIGINT, SIGTERM); returns its removal. */
  onInterrupt(handler: (signal: InterruptSignal) => void): () => void;
  env: NodeJS.ProcessEnv;
}

const processIo: RunIo = {
  stdout: process.stdout,
  stderr: process.stderr,
  onInterrupt(handler) {
    const onInt = (): void => handler('SIGINT');
    const onTerm = (): void => handler('SIGTERM');
    process.on('SIGINT', onInt);
    process.on('SIGTERM', onTerm);
    return () => {
      process.off('SIGINT', onInt);
      process.off('SIGTERM', onTerm);
    };
  },
  env: process.env,
};

const COMMAND = 'proclaunch run';

export async function main(argv: string[], io: RunIo = processIo): Promise<number> {
  let args: RunArgs;
  let launcher: ProcLauncher;
  try {
    args = parseRunArgs(argv, io.env);
    if (args.help) {
      io.stdout.write(RUN_HELP);
      return 0;
    }
    launcher = await openRunLauncher(args, io.env);
  } catch (error) {
    if (error instanceof UsageError) {
      io.stderr.write(usageErrorText(COMMAND, error.message));
      return USAGE_EXIT;
    }
    if (error instanceof LauncherSetupError) {
      io.stderr.write(`${COMMAND}: ${error.message}\n`);
      return 1;
    }
    throw error;
  }
  try {
    return await new RunSession(args, io, launcher).run();
  } finally {
    await launcher.dispose();
  }
}

class RunSession {
  readonly #args: RunArgs;
  readonly #io: RunIo;
  readonly #view: LiveView;
  /** Where proc stdout goes: stdout, except with --json, which keeps stdout for the report. */
  readonly #procStdout: Writable;
  readonly #rows: ProcRow[] = [];
  readonly #handles: ProcHandle[] = [];
  readonly #manager: ProcManager;
  #interrupts = 0;
  #interruptedBy: InterruptSignal | null = null;
  #timedOut = false;
  #stopping = false;

  constructor(args: RunArgs, io: RunIo, launcher: ProcLauncher) {
    this.#args = args;
    this.#io = io;
    this.#view = createLiveView(io.stderr);
    this.#procStdout = args.json ? io.stderr : io.stdout;
    this.#manager = new ProcManager({
      // Ours, set up (and disposed) by main(): the manager only drives it.
      launcher,
      readyTimeoutMs: args.ready ? args.readyTimeoutMs : null,
      ...(args.callbackHost === null ? {} : { callbackHost: args.callbackHost }),
      tailLines: args.tail,
      terminateTimeoutMs: args.graceMs,
      forwardOutput: false,
      logSink: (line, procId, stream) => this.#view.output(`[${procId}] ${line}\n`, stream === 'stdout' ? this.#procStdout : this.#io.stderr),
    });
  }

  async run(): Promise<number> {
    const removeInterrupt = this.#io.onInterrupt((signal) => this.#onInterrupt(signal));
    let deadline: NodeJS.Timeout | undefined;
    try {
      if (this.#args.timeoutMs !== null) {
        const ms = this.#args.timeoutMs;
        deadline = setTimeout(() => {
          this.#timedOut = true;
          this.#stopAll('timeout', `--timeout ${ms} ms reached`);
        }, ms);
      }
      const watchers: Promise<void>[] = [];
      for (let index = 0; index < this.#args.count && !this.#stopping; index++) watchers.push((await this.#start(index)).ended);
      if (this.#args.ready && !this.#stopping) void this.#announceReady();
      await Promise.all(watchers);
    } finally {
      clearTimeout(deadline);
      this.#view.finish();
      await this.#manager.dispose();
      removeInterrupt();
    }
    const now = Date.now();
    const ending = { requested: this.#args.count, interruptedBy: this.#interruptedBy, timedOut: this.#timedOut };
    if (this.#args.json) this.#io.stdout.write(`${JSON.stringify(jsonReport(this.#rows, now), null, 2)}\n`);
    else this.#io.stdout.write(`${summaryLines(this.#rows, now, ending).join('\n')}\n`);
    return exitStatusOf(this.#rows, this.#interruptedBy);
  }

  /** Spawns copy `index`; resolves (wrapped, so it is not awaited here) with a promise that settles when the copy has ended. */
  async #start(index: number): Promise<{ ended: Promise<void> }> {
    const procId = `${this.#args.name}-${index}`;
    const row: ProcRow = { procId, pid: null, status: { state: 'starting' }, startedAt: null, endedAt: null };
    this.#rows.push(row);
    const env = { PROCLAUNCH_INDEX: String(index), PROCLAUNCH_COUNT: String(this.#args.count) };
    let handle: ProcHandle;
    try {
      const { deadlineMs, graceMs } = this.#args;
      const limits = deadlineMs === null ? {} : { deadlineMs, deadlineGraceMs: graceMs };
      handle = await this.#manager.spawn(procId, { program: this.#args.program, args: this.#args.args, env }, limits);
    } catch (error) {
      // The launch failed (program not found …): the manager remembers it as failed.
      const status = this.#manager.status(procId) ?? { state: 'failed', reason: String(error), stderrTail: [] };
      this.#record(row, status);
      return { ended: Promise.resolve() };
    }
    this.#handles.push(handle);
    return { ended: this.#follow(row, handle) };
  }

  async #follow(row: ProcRow, handle: ProcHandle): Promise<void> {
    for await (const status of handle.statuses()) {
      if (status.state === 'starting') continue;
      // The launcher says which ends were its deadline's doing (the handle has the exit by now).
      if (isTerminalStatus(status) && handle.exitResult?.timedOut === true) row.stoppedBy ??= 'deadline';
      this.#record(row, status);
    }
  }

  #record(row: ProcRow, status: ProcRow['status']): void {
    row.status = status;
    if ('startedAt' in status) {
      row.pid = status.pid;
      if (status.host !== undefined) row.host = status.host;
      row.startedAt ??= status.startedAt.getTime();
    }
    if (isTerminalStatus(status)) row.endedAt = Date.now();
    this.#view.transition(row, this.#rows);
  }

  async #announceReady(): Promise<void> {
    const results = await Promise.allSettled(this.#handles.map((handle) => handle.ready()));
    if (results.every((result) => result.status === 'fulfilled') && !this.#stopping) this.#view.note(`all ${this.#handles.length} ready`);
  }

  #onInterrupt(signal: InterruptSignal): void {
    this.#interrupts++;
    if (this.#interrupts === 1) {
      this.#interruptedBy = signal;
      this.#stopAll(signal, `interrupted (${signal}): stopping every proc (SIGTERM, SIGKILL after ${this.#args.graceMs} ms); interrupt again to kill now`);
      return;
    }
    this.#view.note(`interrupted again (${signal}): killing every proc`);
    for (const handle of this.#handles) void handle.kill().catch(() => {});
  }

  #stopAll(cause: StopCause, why: string): void {
    this.#stopping = true;
    // Whatever these copies exit with from here on, the run cut them short.
    for (const row of this.#rows) if (row.endedAt === null) row.stoppedBy ??= cause;
    this.#view.note(why);
    void this.#manager.terminateAll({ timeoutMs: this.#args.graceMs });
  }
}
