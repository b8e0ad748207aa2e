#!/usr/bin/env node
// Runs the Slurm test suite (test/slurm/**/*.test.ts) on a private 3-node cluster that it
// brings up for the run and takes down whatever happens (test failure, crash, SIGINT).
//
//   node test/slurm/run-suite.mjs [vitest args...]      (npm run test:slurm)
//
// Variables read:
//   CI=true                  the Slurm tests must run: no root or no Slurm packages fails loudly
//                            (outside CI they are skipped with the reason, exit 0)
//   PROCLAUNCH_TEST_RESULTS  the main suite's JSON report file, e.g. /x/main.json: this suite's
//                            report goes next to it as /x/main.slurm.json
// Variables the tests see (set here and by the cluster's bin/sl wrapper):
//   PROCLAUNCH_SLURM_TEST=1     the tests run on the cluster's login node (netns <prefix>-ctl)
//   PROCLAUNCH_SLURM_RUN        the cluster's run directory (logs under log/)
//   PROCLAUNCH_SLURM_PREFIX     its netns prefix: nodes are netns <prefix>-node1..3
//   SLURM_CONF                  its slurm.conf, so srun/squeue/scancel talk to it
//   PROCLAUNCH_TEST_RESULTS     (rewritten) the .slurm.json report file, when one was asked for
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');
const UP = join(here, 'cluster', 'up.sh');
const DOWN = join(here, 'cluster', 'down.sh');
const REQUIRED = ['munged', 'slurmctld', 'slurmd', 'srun', 'salloc', 'scancel', 'squeue', 'scontrol', 'sinfo', 'ip', 'nsenter', 'unshare', 'bc'];

function unavailable(reason) {
  if (process.env.CI === 'true') {
    console.error(`slurm suite: CI=true requires the Slurm tests to run, but ${reason}`);
    process.exit(1);
  }
  console.warn(`slurm suite: skipped: ${reason}`);
  process.exit(0);
}

function missingCommands() {
  return REQUIRED.filter((name) => spawnSync('sh', ['-c', `command -v ${name}`], { stdio: 'ignore' }).status !== 0);
}

/** /x/main.json -> /x/main.slurm.json (a second report, so the main one is not overwritten). */
export function slurmResultsFile(mainFile) {
  return /\.json$/.test(mainFile) ? mainFile.replace(/\.json$/, '.slurm.json') : `${mainFile}.slurm.json`;
}

function run(command, args, options) {
  const child = spawn(command, args, options);
  const done = new Promise((resolve) => {
    child.once('error', (error) => resolve({ code: 127, error }));
    child.once('exit', (code, signal) => resolve({ code: code ?? 128, signal }));
  });
  return { child, done };
}

async function main() {
  if (typeof process.getuid === 'function' && process.getuid() !== 0) {
    unavailable('they need root (network namespaces for the cluster)');
  }
  const missing = missingCommands();
  if (missing.length > 0) {
    unavailable(`missing ${missing.join(', ')} (apt-get install -y munge slurmctld slurmd slurm-client bc)`);
  }

  const runDir = mkdtempSync(join(tmpdir(), 'proclaunch-slurm-'));
  let current = null;
  let downDone = false;
  const takeDown = () => {
    if (downDone) return;
    downDone = true;
    spawnSync('bash', [DOWN, runDir], { stdio: ['ignore', 'ignore', 'inherit'], timeout: 120_000 });
  };
  // Whatever happens, the cluster goes: on a signal the tests are stopped first (by pid).
  let interrupted = null;
  const onSignal = (signal) => {
    interrupted = signal;
    const child = current;
    if (child === null || child.exitCode !== null) return;
    child.kill('SIGINT');
    // vitest finishes the running test on SIGINT; one that hangs is killed (by pid), and
    // down.sh then kills whatever it left inside the cluster's namespaces.
    setTimeout(() => { if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL'); }, 30_000).unref();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  process.on('exit', takeDown);

  const started = Date.now();
  const up = run('bash', [UP, runDir], { stdio: ['ignore', 'ignore', 'inherit'] });
  current = up.child;
  const upResult = await up.done;
  current = null;
  if (interrupted !== null) { takeDown(); process.exit(130); }
  if (upResult.code !== 0) {
    takeDown();
    console.error(`slurm suite: the test cluster did not come up (up.sh exit ${upResult.code})`);
    process.exit(1);
  }
  console.log(`slurm suite: cluster up in ${((Date.now() - started) / 1000).toFixed(1)} s (${runDir})`);

  const env = { ...process.env, PROCLAUNCH_SLURM_TEST: '1' };
  const mainResults = process.env.PROCLAUNCH_TEST_RESULTS;
  if (mainResults !== undefined && mainResults !== '') env.PROCLAUNCH_TEST_RESULTS = slurmResultsFile(mainResults);
  const vitest = join(root, 'node_modules', '.bin', 'vitest');
  const tests = run(join(runDir, 'bin', 'sl'),
    [vitest, 'run', '--config', join(here, 'vitest.config.ts'), ...process.argv.slice(2)],
    { stdio: 'inherit', env, cwd: root });
  current = tests.child;
  const result = await tests.done;
  current = null;
  takeDown();
  if (interrupted !== null) process.exit(130);
  process.exit(result.code);
}

await main();
