// Runs one Slurm client command (squeue, salloc, scancel, scontrol) with its own time
// bound: a controller that does not answer must not hang a launch or a dispose. On the
// bound the command is SIGKILLed by pid (child_process's own timeout).
import { execFile } from 'node:child_process';

import { ProcLauncherError, type ProcLauncherErrorKind } from '../contract.js';

export interface SlurmCommandResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** MessageTimeout is 10 s by default and a client may retry once: 30 s covers one slow answer. */
export const SLURM_COMMAND_TIMEOUT_MS = 30_000;

/**
 * The command's exit code and output; a non-zero exit is returned, not thrown (scancel's
 * status means little). Throws ProcLauncherError when it cannot run at all (ENOENT,
 * naming the command) or does not finish within `timeoutMs` (ETIMEDOUT).
 */
export function runSlurmCommand(
  command: string,
  args: readonly string[],
  kind: ProcLauncherErrorKind,
  timeoutMs = SLURM_COMMAND_TIMEOUT_MS,
): Promise<SlurmCommandResult> {
  return new Promise((resolve, reject) => {
    execFile(command, args, { encoding: 'utf8', timeout: timeoutMs, killSignal: 'SIGKILL', maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (error === null) return resolve({ code: 0, stdout, stderr });
      const failure = error as NodeJS.ErrnoException & { killed?: boolean; code?: string | number | null };
      if (failure.code === 'ENOENT' || failure.code === 'EACCES') {
        const code = failure.code;
        reject(new ProcLauncherError(kind, `cannot run the Slurm command '${command}': ${code === 'ENOENT' ? 'not found in PATH (are the Slurm client commands installed, Slurm >= 22.05?)' : 'permission denied'}`, {
          code, errno: code === 'ENOENT' ? 2 : 13, syscall: 'spawn', path: command, stage: 'slurm-command', cause: error,
        }));
        return;
      }
      if (failure.killed === true) {
        reject(new ProcLauncherError(kind, `the Slurm command '${command} ${args.join(' ')}' did not finish within ${timeoutMs} ms (is the controller reachable?)${lastLine(stderr)}`, {
          // What it printed before the kill (salloc's queued job id) stays reachable.
          code: 'ETIMEDOUT', errno: 110, path: command, stage: 'slurm-command', cause: Object.assign(error, { stderr }),
        }));
        return;
      }
      resolve({ code: typeof failure.code === 'number' ? failure.code : 1, stdout, stderr });
    });
  });
}

function lastLine(text: string): string {
  const lines = text.trim().split('\n').filter((line) => line.length > 0);
  return lines.length === 0 ? '' : `: ${lines[lines.length - 1]!}`;
}

/** The command's stderr, trimmed to its last few lines, for an error message. */
export function describeFailure(result: SlurmCommandResult): string {
  const text = result.stderr.trim().split('\n').slice(-3).join(' / ');
  return text.length > 0 ? text : `exit status ${result.code}`;
}

/** A client that could not reach slurmctld: its error as a ProcLauncherError, else null. */
export function controllerError(result: SlurmCommandResult, command: string, kind: ProcLauncherErrorKind): ProcLauncherError | null {
  if (!/Unable to contact slurm controller|Socket timed out|Connection refused|Zero Bytes were transmitted/i.test(result.stderr)) return null;
  return new ProcLauncherError(kind, `the Slurm controller is unreachable (${command}): ${describeFailure(result)}`, {
    code: 'EHOSTUNREACH', errno: 113, path: command, stage: 'slurm-command',
  });
}
