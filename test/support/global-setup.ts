// Vitest global setup: PostgreSQL and Redis for the integration tests (src/ops/local-servers, shared
// with `lastcall demo`), handed to test files with `inject('testDatabaseUrl')` /
// `inject('testRedisUrl')`. TEST_DATABASE_URL names a server (its database is the maintenance
// one; each test file creates its own database); TEST_REDIS_URL a Redis (each file uses its own
// key prefix). When they do not answer, private instances in temp folders stand in for them.
import { delimiter } from 'node:path';
import type { TestProject } from 'vitest/node';
import { ensureServices } from '../../src/ops/local-servers/ensure.ts';
import { dropStaleTestDatabases } from './database-admin.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    testDatabaseUrl: string;
    testRedisUrl: string;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const services = await ensureServices({
    databaseUrl: process.env.TEST_DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/postgres',
    redisUrl: process.env.TEST_REDIS_URL || 'redis://127.0.0.1:6379',
    variables: { database: 'TEST_DATABASE_URL', redis: 'TEST_REDIS_URL' },
    mayReplace: () => true,
    searchPath: (process.env.PATH ?? '').split(delimiter).filter(Boolean),
    howToFix: [
      'To run the tests, either:',
      '  - install them, and the tests start private instances on their own:',
      '      sudo apt-get install postgresql redis-server',
      '  - or start your own and point the tests at them:',
      '      TEST_DATABASE_URL=postgres://user@host:5432/postgres TEST_REDIS_URL=redis://host:6379 npm test',
      '  - or start a Docker engine (docker info must answer).',
    ],
  });
  for (const s of services.started) console.log(`test setup: started ${s.description} at ${s.url}`);
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
