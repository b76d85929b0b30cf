// A database of its own for each test file: `createTestDatabase()` in beforeAll, `drop()` in
// afterAll. It is created and migrated by the same `migrate` that production runs.
import type { Pool } from 'pg';
import { inject } from 'vitest';
import type { ServeConfig } from '../../src/config/config.ts';
import { databaseName, migrate } from '../../src/store/migrate.ts';
import { type Db, openDb } from '../../src/store/pool.ts';
import { testConfig } from './config.ts';
import { dropDatabase, uniqueDatabaseUrl } from './database-admin.ts';

export { dropDatabase };

export interface TestDatabase {
  readonly name: string;
  readonly url: string;
  /** A development Config whose DATABASE_URL is this database. */
  readonly config: ServeConfig;
  readonly db: Db;
  /** The same pool as `db.pool`. */
  readonly pool: Pool;
  /** Closes the pool and drops the database. */
  drop(): Promise<void>;
}

/** The test PostgreSQL server's maintenance URL (from the global setup). */
export function testServerUrl(): string {
  return inject('testDatabaseUrl');
}

/** A URL naming a database that does not exist yet, on the test server. */
export function newDatabaseUrl(): string {
  return uniqueDatabaseUrl(testServerUrl());
}

/** A fresh, migrated database (on the test server, or on the server of `serverUrl`). */
export async function createTestDatabase(serverUrl?: string): Promise<TestDatabase> {
  const url = serverUrl ? uniqueDatabaseUrl(serverUrl) : newDatabaseUrl();
  await migrate({ databaseUrl: url });
  const db = openDb({ databaseUrl: url });
  return {
    name: databaseName(url),
    url,
    config: testConfig({ DATABASE_URL: url }),
    db,
    pool: db.pool,
    async drop() {
      await db.close();
      await dropDatabase(url);
    },
  };
}
