// Vitest global setup: PostgreSQL and Redis for the integration tests (see services/ensure.ts),
// handed to test files with `inject('testDatabaseUrl')` / `inject('testRedisUrl')`.
// TEST_DATABASE_URL names a server (its database is the maintenance one; each test file
// creates its own database); TEST_REDIS_URL a Redis (each file uses its own key prefix).
import type { TestProject } from 'vitest/node';
import { dropStaleTestDatabases } from './database-admin.ts';
import { ensureTestServices } from './services/ensure.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    testDatabaseUrl: string;
    testRedisUrl: string;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const services = await ensureTestServices(
    {
      databaseUrl: process.env.TEST_DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/postgres',
      redisUrl: process.env.TEST_REDIS_URL || 'redis://127.0.0.1:6379',
    },
    (line) => console.log(line),
  );
  try {
    await dropStaleTestDatabases(services.databaseUrl, Math.floor(Date.now() / 1000));
  } catch (error) {
    await services.stop();
    throw error;
  }
  project.provide('testDatabaseUrl', services.databaseUrl);
  project.provide('testRedisUrl', services.redisUrl);
  return () => services.stop();
}
