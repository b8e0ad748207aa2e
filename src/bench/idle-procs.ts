// Sets of idle supervised procs (`sleep`), for the scaling, footprint and terminate
// scenarios: the same workload through NativeProcLauncher and through child_process.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { once } from 'node:events';

import type { LaunchResult } from '../contract.js';
import { NativeProcLauncher } from '../native/native-proc-launcher.js';
import type { CleanupRegistry } from './cleanup.js';

export type IdleSetName = 'native' | 'child_process';

/** Long enough for any scenario; bounded so that even a SIGKILLed bench leaks nothing for long. */
export const IDLE_SECONDS = '1800';
export const SLEEP = ['/bin/sleep', '/usr/bin/sleep'].find((path) => existsSync(path)) ?? 'sleep';

/**
 * Launches resolve without any I/O, so a long launch loop never lets the event loop
 * turn: yield now and then, or Ctrl-C (a uv signal) waits for the whole loop.
 */
export function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

const YIELD_EVERY = 64;

export interface IdleSet {
  readonly name: IdleSetName;
  readonly size: number;
  /** Starts `count` more idle procs; with `capture`, stdout and stderr are pipes to us. */
  grow(count: number, capture: boolean): Promise<void>;
  /** Graceful stop of every proc; resolves when every exit has been observed. */
  terminateAll(): Promise<void>;
  /** SIGKILL to whatever is left, wait for those exits, release the set (it cannot grow again). */
  close(): Promise<void>;
}

export function createIdleSet(name: IdleSetName, registry: CleanupRegistry): IdleSet {
  return name === 'native' ? new NativeIdleSet(registry) : new ChildProcessIdleSet(registry);
}

class NativeIdleSet implements IdleSet {
  readonly name = 'native' as const;
  readonly #launcher = new NativeProcLauncher();
  readonly #live = new Map<string, LaunchResult>();
  readonly #remove: () => void;
  #sequence = 0;

  constructor(registry: CleanupRegistry) {
    // dispose() sends every SIGKILL synchronously, before its first await.
    this.#remove = registry.add(() => void this.#launcher.dispose());
  }

  get size(): number {
    return this.#live.size;
  }

  async grow(count: number, capture: boolean): Promise<void> {
    for (let i = 0; i < count; i++) {
      const id = `idle-${++this.#sequence}`;
      const result = await this.#launcher.launch(id, { command: { program: SLEEP, args: [IDLE_SECONDS] }, wantStdio: capture });
      this.#live.set(id, result);
      void result.exit.then(() => this.#live.delete(id));
      if (i % YIELD_EVERY === YIELD_EVERY - 1) await yieldToEventLoop();
    }
  }

  terminateAll(): Promise<void> {
    return this.#stop((id) => this.#launcher.terminate(id, 5000));
  }

  async close(): Promise<void> {
    await this.#launcher.dispose();
    this.#remove();
  }

  async #stop(signal: (id: string) => Promise<void>): Promise<void> {
    const exits = [...this.#live.values()].map((result) => result.exit);
    for (const id of this.#live.keys()) void signal(id);
    await Promise.all(exits);
  }
}

class ChildProcessIdleSet implements IdleSet {
  readonly name = 'child_process' as const;
  readonly #live = new Map<ChildProcess, Promise<void>>();
  readonly #remove: () => void;

  constructor(registry: CleanupRegistry) {
    this.#remove = registry.add(() => {
      for (const child of this.#live.keys()) if (child.pid !== undefined) process.kill(child.pid, 'SIGKILL');
    });
  }

  get size(): number {
    return this.#live.size;
  }

  async grow(count: number, capture: boolean): Promise<void> {
    for (let i = 0; i < count; i++) {
      const child = spawn(SLEEP, [IDLE_SECONDS], { stdio: capture ? ['ignore', 'pipe', 'pipe'] : 'ignore' });
      const exited = once(child, 'exit').then(() => {
        this.#live.delete(child);
      });
      this.#live.set(child, exited);
      await once(child, 'spawn'); // rejects with the spawn error, if any
      if (i % YIELD_EVERY === YIELD_EVERY - 1) await yieldToEventLoop();
    }
  }

  terminateAll(): Promise<void> {
    return this.#stop('SIGTERM');
  }

  async close(): Promise<void> {
    await this.#stop('SIGKILL');
    this.#remove();
  }

  async #stop(signal: NodeJS.Signals): Promise<void> {
    const exits = [...this.#live.values()];
    for (const child of this.#live.keys()) child.kill(signal);
    await Promise.all(exits);
  }
}
