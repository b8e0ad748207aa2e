import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Real processes, real signals: each test file in its own process.
    pool: 'forks',
    testTimeout: 30_000,
    hookTimeout: 60_000,
    reporters: ['default'],
    // A real systemd manager for test/systemd/, only when those tests are selected.
    globalSetup: ['test/systemd/global-setup.ts'],
  },
});
