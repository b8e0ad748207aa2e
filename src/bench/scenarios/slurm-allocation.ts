// What the Slurm scenario needs from the cluster, through the Slurm client commands
// only: is a controller reachable, an allocation of its own (salloc --no-shell) that
// both contenders run their steps in, and a raw `srun` one-shot to compare against.
import { execFile, spawnSync } from 'node:child_process';

import { commandOneShot, type OneShot } from '../one-shot.js';

/** Every Slurm command is bounded: MessageTimeout alone is 10 s per try. */
const COMMAND_TIMEOUT_MS = 30_000;

interface CommandResult {
  code: number | null;
  stdout: string;
  stderr: string;
  /** Set when the command could not run at all (not on PATH, ...). */
  spawnError?: NodeJS.ErrnoException;
}

export function runSlurmCommand(command: string, args: readonly string[], timeoutMs = COMMAND_TIMEOUT_MS): Promise<CommandResult> {
  return new Promise((resolve) => {
    execFile(command, args, { timeout: timeoutMs, killSignal: 'SIGKILL', encoding: 'utf8' }, (error, stdout, stderr) => {
      const failure = error as (NodeJS.ErrnoException & { code?: unknown }) | null;
      if (failure !== null && typeof failure.code === 'string') resolve({ code: null, stdout, stderr, spawnError: failure });
      else resolve({ code: failure === null ? 0 : typeof failure.code === 'number' ? failure.code : null, stdout, stderr });
    });
  });
}

/** Slurm commands print their errors first and the verdict last ("fatal: ..."). */
function lastLine(text: string): string {
  return text.trim().split('\n').at(-1) ?? '';
}

/** null when a controller answers `squeue` here, else why not (the scenario's skip reason). */
export async function probeSlurm(): Promise<string | null> {
  const result = await runSlurmCommand('squeue', ['-h', '-o', '%i'], 15_000);
  if (result.spawnError?.code === 'ENOENT') return 'no Slurm client commands here (squeue is not on PATH)';
  if (result.spawnError !== undefined) return `squeue could not run: ${result.spawnError.message}`;
  if (result.code !== 0) return `no Slurm controller answers here: squeue exited ${result.code ?? 'on a timeout'}${result.stderr === '' ? '' : `: ${lastLine(result.stderr)}`}`;
  return null;
}

export interface BenchAllocation {
  jobId: string;
  hosts: string[];
  /** scancel of the job; resolves once squeue no longer lists it (bounded). */
  release(): Promise<void>;
  /** The same, synchronous, for the emergency cleanup. */
  releaseNow(): void;
}

/** Responding nodes of the cluster (sinfo -r), so the allocation spans all of them. */
async function respondingNodes(): Promise<number> {
  const result = await runSlurmCommand('sinfo', ['-h', '-r', '-o', '%D']);
  const total = result.stdout.split('\n').reduce((sum, line) => sum + (Number.parseInt(line.trim(), 10) || 0), 0);
  return Math.max(1, total);
}

/** `salloc --no-shell` of up to `maxNodes` nodes; throws with salloc's own words when it cannot. */
export async function allocate(maxNodes: number): Promise<BenchAllocation> {
  const nodes = Math.min(maxNodes, await respondingNodes());
  const granted = await runSlurmCommand('salloc', ['--no-shell', '--no-kill', `-N${nodes}`, '-J', 'proclaunch-bench']);
  const jobId = /Granted job allocation (\d+)/.exec(granted.stderr + granted.stdout)?.[1];
  if (jobId === undefined) throw new Error(`salloc -N${nodes} gave no allocation: ${lastLine(granted.stderr) || `exit ${granted.code}`}`);
  const release = async (): Promise<void> => {
    await runSlurmCommand('scancel', [jobId]);
    // scancel returns before the job is gone; the bench leaves nothing behind it.
    for (let attempt = 0; attempt < 100; attempt++) {
      const left = await runSlurmCommand('squeue', ['-h', '-j', jobId, '-o', '%i'], 10_000);
      if (left.code !== 0 || left.stdout.trim() === '') return;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  };
  try {
    const list = await runSlurmCommand('squeue', ['-h', '-j', jobId, '-o', '%N']);
    const names = await runSlurmCommand('scontrol', ['show', 'hostnames', list.stdout.trim()]);
    const hosts = names.stdout.split('\n').map((line) => line.trim()).filter((line) => line !== '');
    if (hosts.length === 0) throw new Error(`allocation ${jobId} lists no hosts`);
    return { jobId, hosts, release, releaseNow: () => void spawnSync('scancel', [jobId], { timeout: 10_000, stdio: 'ignore' }) };
  } catch (error) {
    await release();
    throw error;
  }
}

/** The baseline: `srun --jobid J --overlap -N1 -n1 -w HOST PROGRAM` through child_process, until it exits. */
export function srunOneShot(jobId: string, host: string): OneShot {
  return commandOneShot('srun', 'srun', (program, args) => [`--jobid=${jobId}`, '--overlap', '-N1', '-n1', `-w${host}`, '--', program, ...args], 'srun: ');
}

export const SRUN_NOTE = 'srun: `srun --jobid=J --overlap -N1 -n1 -wHOST -- /bin/true` through child_process, until it exits (the same step SlurmProcLauncher starts, without -v and its parsing)';
