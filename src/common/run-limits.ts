// The deadline and the abort signal, once for every backend: either one that fires first
// asks the launcher to terminate the tree (SIGTERM, SIGKILL after the grace) and marks
// the exit; a proc that ends before either is not marked.
import type { ProcExitResult } from '../contract.js';
import type { RunLimits } from './normalize-launch.js';

/** Starts the termination of this proc (not of a later one with the same id). */
export type StopTree = (graceMs: number) => void | Promise<void>;

export function superviseRun(exit: Promise<ProcExitResult>, limits: RunLimits, stop: StopTree): Promise<ProcExitResult> {
  const { deadlineMs, graceMs, signal } = limits;
  if (deadlineMs === undefined && signal === undefined) return exit;
  let mark: 'timedOut' | 'aborted' | undefined;
  let ended = false;
  const fire = (why: 'timedOut' | 'aborted'): void => {
    if (ended || mark !== undefined) return;
    mark = why;
    // A terminate that fails (the bus went away) leaves the exit to say what happened.
    void Promise.resolve()
      .then(() => stop(graceMs))
      .catch(() => {});
  };
  const timer = deadlineMs === undefined ? undefined : setTimeout(() => fire('timedOut'), deadlineMs);
  // Like a child_process timeout, the deadline alone does not keep the process alive:
  // the running proc already does (or, with keepAlive false, deliberately does not).
  timer?.unref();
  const onAbort = (): void => fire('aborted');
  signal?.addEventListener('abort', onAbort, { once: true });
  // Aborted between the launch's check and now (the systemd start is asynchronous).
  if (signal?.aborted === true) onAbort();
  return exit.then((result) => {
    ended = true;
    clearTimeout(timer);
    signal?.removeEventListener('abort', onAbort);
    if (mark === undefined) return result;
    return mark === 'timedOut' ? { ...result, timedOut: true } : { ...result, aborted: true };
  });
}
