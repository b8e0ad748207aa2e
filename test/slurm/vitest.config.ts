import { defineConfig } from 'vitest/config';

// The Slurm suite: run by test/slurm/run-suite.mjs on a private cluster's login node
// (PROCLAUNCH_SLURM_TEST=1). A JSON report is written when PROCLAUNCH_TEST_RESULTS is set.
const resultsFile = process.env['PROCLAUNCH_TEST_RESULTS'];

export default defineConfig({
  test: {
    // Files elsewhere that need the cluster (e.g. a contract suite's Slurm runner) are
    // named *.slurm.test.ts: they run here, never in the main run.
    include: ['test/slurm/**/*.test.ts', 'test/**/*.slurm.test.ts'],
    pool: 'forks',
    // One cluster, shared by every file: the node-loss file must not overlap the others.
    fileParallelism: false,
    testTimeout: 120_000,
    hookTimeout: 120_000,
    reporters: resultsFile === undefined ? ['default'] : ['default', ['json', { outputFile: resultsFile }]],
  },
});
