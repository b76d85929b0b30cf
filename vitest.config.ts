import { defineConfig } from 'vitest/config';
import LongFilesFirst from './test/support/sequencer.ts';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    // PostgreSQL and Redis for the integration tests: the ones at TEST_DATABASE_URL /
    // TEST_REDIS_URL, or private instances it starts (test/support/services/ensure.ts).
    globalSetup: ['test/support/global-setup.ts'],
    // Most files wait on sockets and child processes, not the CPU: run more than one per core.
    maxWorkers: 3,
    // The long files first, so that the suite does not end on them (docs/testing.md).
    sequence: { sequencer: LongFilesFirst },
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
});
