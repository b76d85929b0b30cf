// A Config for tests, built by the same parser as production: development mode (development
// secret and admin token), silent logs, and the test server URLs from the global setup.
// Pass the DATABASE_URL of your own test database (or use `createTestDatabase().config`) and
// the QUEUE_PREFIX of your own test Redis prefix: the defaults are the shared servers.
import { inject } from 'vitest';
import { type Config, parseConfig, type Role } from '../../src/config/config.ts';

export function testConfig(env: Record<string, string | undefined> = {}, role: Role = 'cli'): Config {
  return parseConfig(
    {
      DATABASE_URL: inject('testDatabaseUrl'),
      REDIS_URL: inject('testRedisUrl'),
      LASTCALL_ENV: 'development',
      LOG_LEVEL: 'silent',
      ...env,
    },
    role,
  );
}
