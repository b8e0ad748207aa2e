// The allocation the steps run in: made with `salloc --no-shell` (and released at
// dispose), or an existing one that is only checked and never cancelled.
import { ProcLauncherError } from '../contract.js';
import { controllerError, describeFailure, runSlurmCommand } from './slurm-command.js';
import type { ResolvedSlurmOptions } from './launcher-options.js';

/** How long salloc may wait for nodes (its --immediate) before the launch fails. */
const SALLOC_WAIT_S = 60;
const RELEASE_TIMEOUT_MS = 30_000;

export interface Allocation {
  jobId: string;
  /** True when this launcher made it (and so releases it). */
  made: boolean;
  hosts: string[];
}

export async function makeAllocation(options: ResolvedSlurmOptions): Promise<Allocation> {
  const args = ['--no-shell', '--no-kill', '-N', String(options.nodes), `--immediate=${SALLOC_WAIT_S}`, '--job-name=proclaunch'];
  if (options.partition !== undefined) args.push(`--partition=${options.partition}`);
  if (options.account !== undefined) args.push(`--account=${options.account}`);
  if (options.timeLimit !== undefined) args.push(`--time=${options.timeLimit}`);
  let result;
  try {
    result = await runSlurmCommand('salloc', args, 'launch', (SALLOC_WAIT_S + 30) * 1000);
  } catch (error) {
    // Killed on our bound: a job it already queued must not stay behind.
    const queued = /allocation (\d+)/.exec(String((error as { cause?: { stderr?: string } }).cause?.stderr ?? ''));
    if (queued !== null) await runSlurmCommand('scancel', [queued[1]!], 'other').catch(() => {});
    throw error;
  }
  const granted = /Granted job allocation (\d+)/.exec(result.stderr);
  if (granted === null) {
    const unreachable = controllerError(result, 'salloc', 'launch');
    if (unreachable !== null) throw unreachable;
  }
  if (result.code !== 0 || granted === null) {
    throw new ProcLauncherError('launch', `salloc could not allocate ${options.nodes} node(s): ${describeFailure(result)}`, {
      code: 'ESLURM', stage: 'allocate', path: 'salloc',
    });
  }
  const jobId = granted[1]!;
  try {
    return { jobId, made: true, hosts: await hostsOf(jobId) };
  } catch (error) {
    await releaseAllocation(jobId).catch(() => {});
    throw error;
  }
}

/** An allocation given by the user: it must exist and be running. */
export async function useAllocation(jobId: string): Promise<Allocation> {
  return { jobId, made: false, hosts: await hostsOf(jobId) };
}

/** The allocation's node names, in Slurm's order; ProcLauncherError when it is unknown or not running. */
export async function hostsOf(jobId: string): Promise<string[]> {
  const queue = await runSlurmCommand('squeue', ['-h', '-j', jobId, '-o', '%T|%N'], 'launch');
  const line = queue.stdout.trim().split('\n')[0] ?? '';
  if (queue.code !== 0 || line === '') {
    const unreachable = controllerError(queue, 'squeue', 'launch');
    if (unreachable !== null) throw unreachable;
    throw new ProcLauncherError('launch', `allocation ${jobId} is not known to Slurm: ${describeFailure(queue)}`, {
      code: 'ESRCH', errno: 3, stage: 'allocation',
    });
  }
  const [state, nodeList] = line.split('|') as [string, string | undefined];
  if (state !== 'RUNNING' || nodeList === undefined || nodeList === '') {
    throw new ProcLauncherError('launch', `allocation ${jobId} is not running (state ${state})`, { code: 'ESRCH', errno: 3, stage: 'allocation' });
  }
  const names = await runSlurmCommand('scontrol', ['show', 'hostnames', nodeList], 'launch');
  const hosts = names.stdout.split('\n').map((name) => name.trim()).filter((name) => name.length > 0);
  if (names.code !== 0 || hosts.length === 0) {
    throw new ProcLauncherError('launch', `cannot expand the node list "${nodeList}" of allocation ${jobId}: ${describeFailure(names)}`, {
      code: 'ESLURM', stage: 'allocation',
    });
  }
  return hosts;
}

/** scancel, then wait until squeue no longer lists the job (bounded). */
export async function releaseAllocation(jobId: string): Promise<void> {
  await runSlurmCommand('scancel', [jobId], 'other');
  const deadline = Date.now() + RELEASE_TIMEOUT_MS;
  for (;;) {
    const queue = await runSlurmCommand('squeue', ['-h', '-j', jobId, '-o', '%T'], 'other');
    // Empty, or "Invalid job id" once the controller has forgotten it.
    if (queue.stdout.trim() === '') return;
    if (Date.now() > deadline) {
      throw new ProcLauncherError('other', `allocation ${jobId} is still listed by squeue ${RELEASE_TIMEOUT_MS} ms after scancel (state ${queue.stdout.trim()})`, {
        code: 'ETIMEDOUT', stage: 'release',
      });
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}
