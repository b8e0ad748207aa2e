// Shared bits for the manager tests: a manager that does not write to the test's
// stdout, a status collector, and reading a proc's environment.
import { readFileSync } from 'node:fs';

import { ProcManager, type ProcHandle, type ProcManagerOptions } from '../../src/index.js';

/** A native manager that forwards nothing to the test's own stdout/stderr. */
export function quietManager(options: ProcManagerOptions = {}): ProcManager {
  return new ProcManager({ launcher: 'native', forwardOutput: false, ...options });
}

/** Every state the handle goes through, once it has ended. */
export async function statesOf(handle: ProcHandle): Promise<string[]> {
  const states: string[] = [];
  for await (const status of handle.statuses()) states.push(status.state);
  return states;
}

/** One variable of a running process's environment (as it was at exec). */
export function envOf(pid: number, name: string): string | undefined {
  // A vfork parent resumes when the child's execve switches memory, a moment before the
  // kernel records where the new environment lies: /proc/<pid>/environ can read empty
  // right after launch. Re-read until it is filled in (bounded).
  let text = '';
  for (let attempt = 0; attempt < 10_000 && text === ''; attempt++) text = readFileSync(`/proc/${pid}/environ`, 'utf8');
  const entries = text.split('\0');
  const entry = entries.find((item) => item.startsWith(`${name}=`));
  return entry?.slice(name.length + 1);
}

/** Resolves with the first line the sink sees that satisfies `match`. */
export class LineCollector {
  readonly lines: Array<{ line: string; procId: string; stream: string }> = [];
  #waiters: Array<{ match: (line: string, procId: string) => boolean; resolve: () => void }> = [];

  readonly sink = (line: string, procId: string, stream: string): void => {
    this.lines.push({ line, procId, stream });
    this.#waiters = this.#waiters.filter((waiter) => {
      if (!waiter.match(line, procId)) return true;
      waiter.resolve();
      return false;
    });
  };

  waitFor(procId: string, line: string): Promise<void> {
    if (this.lines.some((entry) => entry.procId === procId && entry.line === line)) return Promise.resolve();
    return new Promise((resolve) => this.#waiters.push({ match: (l, id) => id === procId && l === line, resolve }));
  }
}

/** After a test file: none of our children is alive or a zombie (each vitest file runs in its own process). */
export async function expectNoLeftovers(): Promise<void> {
  const { liveChildren, waitFor, zombieChildren } = await import('./proc-table.js');
  await waitFor(() => liveChildren().length === 0 && zombieChildren().length === 0, 'no child process left', 5000);
}
