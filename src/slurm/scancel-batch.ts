// One `scancel --signal=X J.S1 J.S2 ...` for the signals asked in the same tick, instead of
// one scancel process per step: a terminateAll of 100 steps was 100 scancels (each a
// process and a controller round trip), 14-31 s in all.
import { runSlurmCommand } from './slurm-command.js';

export type StepSignal = 'TERM' | 'KILL';

/** Step ids per scancel: keeps argv small (each id is ~10 bytes) and one request bounded. */
export const MAX_STEPS_PER_SCANCEL = 200;

export class ScancelBatch {
  readonly #pending = new Map<StepSignal, Set<string>>([['TERM', new Set()], ['KILL', new Set()]]);
  #scheduled = false;
  /** scancel processes started, for tests and figures. */
  calls = 0;

  /** Queues `signal` for step `stepId`; sent with the others of this tick (a KILL covers a TERM). */
  signal(stepId: string, signal: StepSignal): void {
    if (signal === 'TERM' && this.#pending.get('KILL')!.has(stepId)) return;
    if (signal === 'KILL') this.#pending.get('TERM')!.delete(stepId);
    this.#pending.get(signal)!.add(stepId);
    if (this.#scheduled) return;
    this.#scheduled = true;
    // setImmediate, not a microtask: the calls of one synchronous loop *and* of the promise
    // chains it started (a manager's terminateAll workers) land in one batch.
    setImmediate(() => this.#flush());
  }

  #flush(): void {
    this.#scheduled = false;
    for (const [signal, ids] of this.#pending) {
      const steps = [...ids];
      ids.clear();
      for (let at = 0; at < steps.length; at += MAX_STEPS_PER_SCANCEL) {
        void this.#deliver(signal, steps.slice(at, at + MAX_STEPS_PER_SCANCEL));
      }
    }
  }

  // Slurm signals a step's processes one at a time (proctrack/linuxproc walks them), so a
  // shell whose child died first could return from `wait` and exit 0 before its own signal
  // came. Stopped first, nothing in the step runs until every process holds its signal:
  // STOP, then the signal, then (for TERM, which a stopped process only handles once
  // continued) CONT. KILL needs no CONT.
  async #deliver(signal: StepSignal, steps: string[]): Promise<void> {
    const scancel = async (name: string): Promise<void> => {
      this.calls++;
      // scancel's exit status is not trusted (225 for a delivered signal, non-zero when one
      // step of the list has ended): each srun's exit is what is watched.
      await runSlurmCommand('scancel', [`--signal=${name}`, ...steps], signal === 'TERM' ? 'terminate' : 'kill').catch(() => {});
    };
    await scancel('STOP');
    await scancel(signal);
    if (signal === 'TERM') await scancel('CONT');
  }
}
