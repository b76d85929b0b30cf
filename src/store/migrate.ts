// `migrate(config)`: create the database named in DATABASE_URL if it is missing, then apply
// pending migrations from ./migrations (plain .sql files with `-- Up Migration` and
// `-- Down Migration` sections, read by node-pg-migrate's SQL loader: no TypeScript loader).
// Safe to run from several processes at once (compose `migrate`, tests, an operator): the
// database creation tolerates a concurrent create, and node-pg-migrate runs under a
// PostgreSQL advisory lock that later callers wait for, then find nothing left to do.
import { join } from 'node:path';
import { runner } from 'node-pg-migrate';
import { Client, DatabaseError, escapeIdentifier } from 'pg';
import type { Config } from '../config/config.ts';
import { explainConnectionError, redactUrl } from './connection-error.ts';
import { fillPhoneRegions } from './phone-regions.ts';

export const MIGRATIONS_DIR = join(import.meta.dirname, 'migrations');
export const MIGRATIONS_TABLE = 'pgmigrations';

export interface MigrateResult {
  readonly database: string;
  /** True when this call created the database. */
  readonly databaseCreated: boolean;
  /** Names of the migrations this call applied, in order; empty when up to date. */
  readonly applied: readonly string[];
}

const quiet = { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} };

export async function migrate(config: Pick<Config, 'databaseUrl'>): Promise<MigrateResult> {
  const url = config.databaseUrl;
  const databaseCreated = await ensureDatabase(url);
  try {
    const ran = await runner({
      databaseUrl: url,
      dir: MIGRATIONS_DIR,
      ignorePattern: '(?!.*\\.sql$).*', // only .sql files are migrations
      migrationsTable: MIGRATIONS_TABLE,
      direction: 'up',
      checkOrder: true,
      singleTransaction: true,
      advisoryLockMode: 'wait',
      logger: quiet,
    });
    await afterMigrations(url);
    return { database: databaseName(url), databaseCreated, applied: ran.map((m) => m.name) };
  } catch (error) {
    throw explainConnectionError(url, error);
  }
}

/** Data the SQL migrations cannot compute: the phone regions of rows written before the column. */
async function afterMigrations(url: string): Promise<void> {
  const client = new Client({ connectionString: url, connectionTimeoutMillis: 10_000 });
  await client.connect();
  try {
    await fillPhoneRegions(client);
  } finally {
    await client.end();
  }
}

/** The database a URL names (its path), or '' when it leaves the choice to the server. */
export function databaseName(url: string): string {
  return decodeURIComponent(new URL(url).pathname.replace(/^\//, ''));
}

/** Same server and credentials, another database. */
export function withDatabase(url: string, name: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${encodeURIComponent(name)}`;
  return parsed.toString();
}

const INVALID_CATALOG_NAME = '3D000';
const DUPLICATE_DATABASE = '42P04';
const UNIQUE_VIOLATION = '23505'; // two CREATE DATABASE racing can surface as pg_database's unique index
const INSUFFICIENT_PRIVILEGE = '42501';

/** Returns true if it created the database. */
async function ensureDatabase(url: string): Promise<boolean> {
  const name = databaseName(url);
  if (await canConnect(url)) return false;
  // The target is missing: create it from a maintenance database on the same server.
  let lastError: unknown;
  for (const maintenance of ['postgres', 'template1']) {
    if (maintenance === name) continue;
    const client = new Client({
      connectionString: withDatabase(url, maintenance),
      connectionTimeoutMillis: 10_000,
    });
    try {
      await client.connect();
    } catch (error) {
      await client.end().catch(() => {});
      if (codeOf(error) === INVALID_CATALOG_NAME) {
        lastError = error;
        continue;
      }
      throw explainConnectionError(url, error);
    }
    try {
      await client.query(`CREATE DATABASE ${escapeIdentifier(name)}`);
      return true;
    } catch (error) {
      const code = codeOf(error);
      if (code === DUPLICATE_DATABASE || code === UNIQUE_VIOLATION) return false;
      if (code === INSUFFICIENT_PRIVILEGE)
        throw new Error(
          `Database "${name}" does not exist and the user in DATABASE_URL (${redactUrl(url)}) may not create it: ` +
            `create it once (createdb ${name}) or grant CREATEDB to that user.`,
          { cause: error },
        );
      throw error;
    } finally {
      await client.end().catch(() => {});
    }
  }
  throw new Error(
    `Cannot create database "${name}": no maintenance database (postgres, template1) to connect to`,
    {
      cause: lastError,
    },
  );
}

/** True if the database exists and accepts us; false if it does not exist; throws otherwise. */
async function canConnect(url: string): Promise<boolean> {
  const client = new Client({ connectionString: url, connectionTimeoutMillis: 10_000 });
  try {
    await client.connect();
    return true;
  } catch (error) {
    if (codeOf(error) === INVALID_CATALOG_NAME && databaseName(url) !== '') return false;
    throw explainConnectionError(url, error);
  } finally {
    await client.end().catch(() => {});
  }
}

function codeOf(error: unknown): string | undefined {
  return error instanceof DatabaseError ? error.code : undefined;
}
