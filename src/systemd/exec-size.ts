// What execve must refuse, refused before StartTransientUnit: systemd's own child would
// fail the execve and report it as 203/EXEC, which cannot be told from other exec
// failures. Native gets E2BIG from this kernel at stage 'exec'; so does this check.
import { ProcLauncherError } from '../contract.js';
import type { NormalizedLaunch } from '../common/normalize-launch.js';

/** fs/exec.c MAX_ARG_STRLEN (32 pages): one argv or envp string, its NUL included. */
export const MAX_ARG_STRLEN = 32 * 4096;
/** fs/exec.c: argv+envp never exceed 3/4 of _STK_LIM (8 MiB), whatever the stack rlimit. */
const MAX_EXEC_TOTAL = 6 * 1024 * 1024;
/** The stack rlimit assumed when opts.rlimits.stack does not set one: systemd's and Linux's usual 8 MiB. */
const ASSUMED_STACK = 8 * 1024 * 1024;
/**
 * Room kept for what systemd adds to the environment (INVOCATION_ID, JOURNAL_STREAM,
 * MANAGERPID, HOME/USER/SHELL, the manager's own environment block): conservative, so a
 * launch near the limit is refused here rather than failing as 203/EXEC.
 */
export const SYSTEMD_ENV_RESERVE = 64 * 1024;
const POINTER_BYTES = 8;
const E2BIG = 7;

/**
 * E2BIG (stage 'exec', as native) when a single argv/env string is over MAX_ARG_STRLEN, or
 * argv+envp (strings, NULs, pointers) are over what the unit's execve can take: a quarter
 * of the stack rlimit (opts.rlimits.stack's soft limit, else 8 MiB), at most 6 MiB, less
 * SYSTEMD_ENV_RESERVE.
 */
export function checkExecSize(launch: NormalizedLaunch, env: readonly string[]): void {
  const argv = [launch.arg0, ...launch.args];
  let total = (argv.length + env.length + 2) * POINTER_BYTES;
  for (const [list, what] of [[argv, 'an argument'], [env, 'an environment variable']] as const) {
    for (const entry of list) {
      const bytes = Buffer.byteLength(entry) + 1;
      if (bytes > MAX_ARG_STRLEN) throw tooLarge(launch, `${what} of ${bytes} bytes (NUL included) is over execve's ${MAX_ARG_STRLEN}-byte limit for one string`);
      total += bytes;
    }
  }
  const stack = launch.rlimits.find((limit) => limit.name === 'stack')?.soft ?? ASSUMED_STACK;
  const limit = Math.min(stack / 4, MAX_EXEC_TOTAL) - SYSTEMD_ENV_RESERVE;
  if (total > limit) {
    throw tooLarge(launch, `argv and environment need ${total} bytes, over the ${Math.floor(limit)} the unit's execve can take (a quarter of its ${stack === Infinity ? 'unlimited' : stack}-byte stack limit, at most ${MAX_EXEC_TOTAL}, less ${SYSTEMD_ENV_RESERVE} kept for systemd's own variables)`);
  }
}

function tooLarge(launch: NormalizedLaunch, why: string): ProcLauncherError {
  return new ProcLauncherError('launch', `cannot launch "${launch.procId}": E2BIG, argument list too long: ${why}`, {
    code: 'E2BIG', errno: E2BIG, syscall: 'execve', stage: 'exec', path: launch.program,
  });
}
