// Launchers for the manager tests: a pure-JS one with no pid and stdio the launcher
// keeps, and a native one that counts stops in flight.
import type { LaunchOptions, LaunchResult, ProcExitResult, ProcLauncher } from '../../src/index.js';
import { NativeProcLauncher } from '../../src/index.js';

/** Procs that exist only in memory: pid null, stdio 'managed-by-launcher', a tail of its own. */
export class InMemoryLauncher implements ProcLauncher {
  readonly launched: Array<{ procId: string; opts: LaunchOptions }> = [];
  readonly calls: string[] = [];
  readonly #exits = new Map<string, (result: ProcExitResult) => void>();

  async launch(procId: string, opts: LaunchOptions): Promise<LaunchResult> {
    this.launched.push({ procId, opts });
    let settle!: (result: ProcExitResult) => void;
    const exit = new Promise<ProcExitResult>((resolve) => (settle = resolve));
    this.#exits.set(procId, settle);
    return { pid: null, startedAt: new Date(), stdio: { kind: 'managed-by-launcher' }, stdin: null, exit };
  }

  /** Ends a proc as if it exited by itself. */
  finish(procId: string, result: ProcExitResult): void {
    this.#exits.get(procId)?.(result);
    this.#exits.delete(procId);
  }

  async terminate(procId: string, timeoutMs: number): Promise<void> {
    this.calls.push(`terminate ${procId} ${timeoutMs}`);
    this.finish(procId, { kind: 'exited', code: 0, stderrTail: ['terminated politely'] });
  }

  async kill(procId: string): Promise<void> {
    this.calls.push(`kill ${procId}`);
    this.finish(procId, { kind: 'signaled', signal: 9, signalName: 'SIGKILL', coreDumped: false, stderrTail: ['killed'] });
  }

  async dispose(): Promise<void> {
    for (const procId of [...this.#exits.keys()]) await this.kill(procId);
  }
}

/** The native launcher, counting procs whose stop has begun and whose exit has not come yet. */
export class CountingLauncher implements ProcLauncher {
  readonly #inner = new NativeProcLauncher();
  readonly #exits = new Map<string, Promise<ProcExitResult>>();
  readonly #stopping = new Set<string>();
  maxInFlight = 0;

  async launch(procId: string, opts: LaunchOptions): Promise<LaunchResult> {
    const result = await this.#inner.launch(procId, opts);
    this.#exits.set(procId, result.exit);
    void result.exit.then(() => this.#stopping.delete(procId));
    return result;
  }

  async terminate(procId: string, timeoutMs: number): Promise<void> {
    this.#stopping.add(procId);
    this.maxInFlight = Math.max(this.maxInFlight, this.#stopping.size);
    await this.#inner.terminate(procId, timeoutMs);
  }

  kill(procId: string): Promise<void> {
    return this.#inner.kill(procId);
  }

  dispose(): Promise<void> {
    return this.#inner.dispose();
  }
}
