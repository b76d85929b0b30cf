// Creating names for, and dropping, test databases on the test server. No vitest import: the
// global setup uses it too. Names carry their creation time, so that the global setup can sweep
// databases left behind by a killed run without touching those of a run still going.
import { randomBytes } from 'node:crypto';
import { Client, escapeIdentifier } from 'pg';
import { databaseName, withDatabase } from '../../src/store/migrate.ts';

const PREFIX = 'lastcall_test_';

/** A URL naming a database that does not exist yet, on the server of `serverUrl`. */
export function uniqueDatabaseUrl(serverUrl: string): string {
  const seconds = Math.floor(Date.now() / 1000);
  return withDatabase(serverUrl, `${PREFIX}${seconds}_${randomBytes(4).toString('hex')}`);
}

async function onServer<T>(url: string, fn: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: withDatabase(url, 'postgres') });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/** Drops the database a URL names, disconnecting whoever is still in it. */
export async function dropDatabase(url: string): Promise<void> {
  const name = databaseName(url);
  await onServer(url, (c) => c.query(`DROP DATABASE IF EXISTS ${escapeIdentifier(name)} WITH (FORCE)`));
}

/** Drops test databases created more than `maxAgeSeconds` ago (left by killed runs). */
export async function dropStaleTestDatabases(
  serverUrl: string,
  nowSeconds: number,
  maxAgeSeconds = 6 * 3600,
): Promise<string[]> {
  const names = await onServer(serverUrl, async (c) => {
    const { rows } = await c.query<{ datname: string }>(
      `SELECT datname FROM pg_database WHERE starts_with(datname, $1)`,
      [PREFIX],
    );
    return rows.map((r) => r.datname);
  });
  const stale = names.filter((name) => {
    const seconds = Number(name.slice(PREFIX.length).split('_')[0]);
    return Number.isFinite(seconds) && nowSeconds - seconds > maxAgeSeconds;
  });
  for (const name of stale) await dropDatabase(withDatabase(serverUrl, name)).catch(() => {});
  return stale;
}
