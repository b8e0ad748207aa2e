// Where the Slurm tests run: on the login node of the cluster run-suite.mjs brought up.
// Outside that (a plain `vitest run` of this config) they skip with the reason, except
// under CI=true, where a missing cluster fails the file loudly.
import { execFileSync } from 'node:child_process';

export interface SlurmTestCluster {
  runDir: string;
  prefix: string;
  /** netns of a node, e.g. '<prefix>-node3' */
  nodeNetns(node: string): string;
}

function detect(): SlurmTestCluster | string {
  const env = process.env;
  if (env['PROCLAUNCH_SLURM_TEST'] !== '1') return 'not on a test cluster login node (run them with `npm run test:slurm`)';
  const runDir = env['PROCLAUNCH_SLURM_RUN'];
  const prefix = env['PROCLAUNCH_SLURM_PREFIX'];
  if (runDir === undefined || prefix === undefined || env['SLURM_CONF'] === undefined) {
    return 'PROCLAUNCH_SLURM_RUN, PROCLAUNCH_SLURM_PREFIX or SLURM_CONF missing (use the cluster\'s bin/sl)';
  }
  return { runDir, prefix, nodeNetns: (node) => `${prefix}-${node}` };
}

const detected = detect();
if (typeof detected === 'string') {
  if (process.env['CI'] === 'true') throw new Error(`CI=true requires the Slurm tests to run: ${detected}`);
  console.warn(`[slurm tests skipped] ${detected}`);
}

/** The cluster, or null (the reason was printed) when these tests cannot run here. */
export const cluster: SlurmTestCluster | null = typeof detected === 'string' ? null : detected;

/** Runs a Slurm client command on the login node and returns its stdout (bounded in time). */
export function slurmCommand(command: string, args: readonly string[]): string {
  return execFileSync(command, args, { encoding: 'utf8', timeout: 30_000, stdio: ['ignore', 'pipe', 'pipe'] });
}
