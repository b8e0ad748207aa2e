// Shared checks for the Slurm tests: what a launcher must leave behind (nothing).
import { liveChildren, waitFor, zombieChildren, isRunning } from '../helpers/proc-table.js';
import { slurmCommand } from './slurm-context.js';

/** Step ids (J.S) Slurm still lists for job `jobId`. */
export function stepsOf(jobId: string): string[] {
  return slurmCommand('squeue', ['-h', '-s', '-j', jobId, '-o', '%i'])
    .split('\n').map((line) => line.trim()).filter((line) => line.length > 0);
}

/** True while squeue lists the job. */
export function jobListed(jobId: string): boolean {
  try {
    return slurmCommand('squeue', ['-h', '-j', jobId, '-o', '%T']).trim() !== '';
  } catch {
    return false; // "Invalid job id": forgotten
  }
}

/**
 * After a file's procs ended: no local srun (no live child, no zombie) and no step left
 * in the allocation; remote pids given are gone too (the nodes share our pid namespace).
 */
export async function expectNothingLeft(jobId: string, remotePids: readonly number[] = []): Promise<void> {
  // Bounded waits: a Slurm command we ran may be a zombie for a moment before libuv reaps it.
  await waitFor(() => liveChildren().length === 0, 'no local srun left', 20_000);
  await waitFor(() => zombieChildren().length === 0, 'no zombie child left', 20_000);
  await waitFor(() => stepsOf(jobId).length === 0, `no step left in job ${jobId} (left: ${stepsOf(jobId).join(', ')})`, 30_000);
  for (const pid of remotePids) await waitFor(() => !isRunning(pid), `remote pid ${pid} gone`, 20_000);
}
