// A Config for tests, built by the same parser as production: development mode (development
// secret and admin token), silent logs, and the test server URLs from the global setup.
// Pass the DATABASE_URL of your own test database (or use `createTestDatabase().config`) and
// the QUEUE_PREFIX of your own test Redis prefix: the defaults are the shared servers.
import { inject } from 'vitest';
import {
  parseConfig,
  type Role,
  requireAdminToken,
  requireSecretKey,
  type ServeConfig,
} from '../../src/config/config.ts';

/** Every role's config at once (development mode fills SECRET_KEY and ADMIN_TOKEN in), so one
 *  config serves the HTTP side and the workers of a test; `role` picks the rules it is checked by. */
export function testConfig(env: Record<string, string | undefined> = {}, role: Role = 'cli'): ServeConfig {
  const config = parseConfig(
    {
      DATABASE_URL: inject('testDatabaseUrl'),
      REDIS_URL: inject('testRedisUrl'),
      LASTCALL_ENV: 'development',
      LOG_LEVEL: 'silent',
      ...env,
    },
    role,
  );
  return requireAdminToken(requireSecretKey(config, 'tests sign links'));
}
