// PostgreSQL: reachable with DATABASE_URL, and every migration shipped with this version applied
// (node-pg-migrate's `pgmigrations` table against the .sql files of src/store/migrations).
import { readdir } from 'node:fs/promises';
import { Client, DatabaseError } from 'pg';
import type { Config } from '../../config/config.ts';
import { isUnreachable, redactUrl } from '../../store/connection-error.ts';
import { databaseName, MIGRATIONS_DIR, MIGRATIONS_TABLE } from '../../store/migrate.ts';
import type { Finding } from './finding.ts';

const TIMEOUT_MS = 5_000;
const INVALID_CATALOG_NAME = '3D000';
const UNDEFINED_TABLE = '42P01';
const AUTH_FAILED = new Set(['28P01', '28000']);

export async function postgresCheck(config: Pick<Config, 'databaseUrl'>): Promise<Finding[]> {
  const where = redactUrl(config.databaseUrl);
  const client = new Client({
    connectionString: config.databaseUrl,
    connectionTimeoutMillis: TIMEOUT_MS,
    query_timeout: TIMEOUT_MS,
  });
  client.on('error', () => {}); // a connection dropped mid-check is reported by the failing query
  try {
    await client.connect();
  } catch (error) {
    await client.end().catch(() => {});
    return [unreachable(config.databaseUrl, where, error)];
  }
  try {
    const version = (await client.query<{ v: string }>("SELECT current_setting('server_version') AS v"))
      .rows[0]?.v;
    const reachable: Finding = {
      check: 'postgres',
      title: 'PostgreSQL',
      status: 'ok',
      detail: `reachable at ${where} (server ${version ?? 'unknown'})`,
    };
    return [reachable, await migrations(client)];
  } catch (error) {
    return [
      {
        check: 'postgres',
        title: 'PostgreSQL',
        status: 'fail',
        detail: `${where}: ${(error as Error).message}`,
      },
    ];
  } finally {
    await client.end().catch(() => {});
  }
}

function unreachable(url: string, where: string, error: unknown): Finding {
  const code = error instanceof DatabaseError ? error.code : undefined;
  const base = { check: 'postgres', title: 'PostgreSQL', status: 'fail' } as const;
  if (code === INVALID_CATALOG_NAME)
    return {
      ...base,
      detail: `the server at ${where} has no database "${databaseName(url)}"`,
      fix: 'run "lastcall db migrate": it creates the database and its tables',
    };
  if (code !== undefined && AUTH_FAILED.has(code))
    return {
      ...base,
      detail: `${where} refused the login: ${(error as Error).message}`,
      fix: 'check the user and password in DATABASE_URL',
    };
  const why =
    error instanceof AggregateError ? String(error.errors[0]?.message ?? error) : (error as Error).message;
  return {
    ...base,
    detail: `unreachable at ${where} (${why})`,
    fix: isUnreachable(error)
      ? 'start PostgreSQL (docker compose up -d postgres) or point DATABASE_URL at a running server'
      : 'check DATABASE_URL',
  };
}

async function migrations(client: Client): Promise<Finding> {
  const files = (await readdir(MIGRATIONS_DIR))
    .filter((f) => f.endsWith('.sql'))
    .map((f) => f.slice(0, -'.sql'.length))
    .sort();
  let applied: string[] = [];
  try {
    applied = (
      await client.query<{ name: string }>(`SELECT name FROM ${MIGRATIONS_TABLE} ORDER BY name`)
    ).rows.map((r) => r.name);
  } catch (error) {
    if ((error as DatabaseError).code !== UNDEFINED_TABLE) throw error;
  }
  const pending = files.filter((f) => !applied.includes(f));
  const unknown = applied.filter((a) => !files.includes(a));
  if (pending.length > 0) {
    return {
      check: 'postgres',
      title: 'migrations',
      status: 'fail',
      detail: `${pending.length} of ${files.length} not applied: ${pending.join(', ')}`,
      fix: 'run "lastcall db migrate"',
    };
  }
  if (unknown.length > 0) {
    return {
      check: 'postgres',
      title: 'migrations',
      status: 'warn',
      detail: `up to date, and ${unknown.length} applied that this version does not ship (${unknown.join(', ')}): the database was migrated by a newer Lastcall`,
      fix: 'run the same Lastcall version everywhere',
    };
  }
  return {
    check: 'postgres',
    title: 'migrations',
    status: 'ok',
    detail: `up to date (${files.length} applied)`,
  };
}
