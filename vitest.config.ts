import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    // PostgreSQL and Redis for the integration tests: the ones at TEST_DATABASE_URL /
    // TEST_REDIS_URL, or private instances it starts (test/support/services/ensure.ts).
    globalSetup: ['test/support/global-setup.ts'],
    // Most files wait on sockets and child processes, not the CPU: run more than one per core.
    maxWorkers: 3,
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
});
