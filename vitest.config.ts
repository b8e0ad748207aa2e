import { defineConfig } from 'vitest/config';

// In CI a JSON report is written too, so .ci/run can print one "N passed, N failed" line.
const resultsFile = process.env['PROCLAUNCH_TEST_RESULTS'];

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // test/slurm/ and *.slurm.test.ts run on a Slurm cluster's login node:
    // test/slurm/run-suite.mjs (npm run test:slurm, and after this run in npm test).
    exclude: ['test/slurm/**', 'test/**/*.slurm.test.ts', '**/node_modules/**'],
    // Real processes, real signals: each test file in its own process.
    pool: 'forks',
    testTimeout: 30_000,
    hookTimeout: 60_000,
    reporters: resultsFile === undefined ? ['default'] : ['default', ['json', { outputFile: resultsFile }]],
    // A real systemd manager for test/systemd/, only when those tests are selected.
    globalSetup: ['test/systemd/global-setup.ts'],
  },
});
