// Everything the bench starts registers a synchronous "kill it now" hook here, so that
// Ctrl-C, an error or an unexpected exit still leaves no proc and no temp file behind.

export class CleanupRegistry {
  readonly #hooks = new Set<() => void>();

  /** Adds a hook; the returned function removes it (call it once the resource is gone). */
  add(hook: () => void): () => void {
    this.#hooks.add(hook);
    return () => this.#hooks.delete(hook);
  }

  get size(): number {
    return this.#hooks.size;
  }

  /** Runs every hook once, newest first; a failing hook does not stop the others. */
  runAll(): void {
    const hooks = [...this.#hooks].reverse();
    this.#hooks.clear();
    for (const hook of hooks) {
      try {
        hook();
      } catch {
        // best effort: the others must still run
      }
    }
  }
}

/**
 * Runs the registry on SIGINT/SIGTERM (then exits 128+signal) and on process exit.
 * Returns the function that removes the handlers again.
 */
export function installEmergencyCleanup(registry: CleanupRegistry): () => void {
  const onSignal = (signal: NodeJS.Signals): void => {
    registry.runAll();
    process.stderr.write(`\nproclaunch bench: interrupted by ${signal}, every proc it started was killed\n`);
    process.exit(signal === 'SIGINT' ? 130 : 143);
  };
  const onExit = (): void => registry.runAll();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  process.once('exit', onExit);
  return () => {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    process.off('exit', onExit);
  };
}
