// The schema's invariants and `migrate` itself, on a real PostgreSQL.
import { readdirSync } from 'node:fs';
import { runner } from 'node-pg-migrate';
import { Client, escapeIdentifier } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../src/ops/local-servers/probe.ts';
import { databaseName, MIGRATIONS_DIR, MIGRATIONS_TABLE, migrate } from '../src/store/migrate.ts';
import { openDb } from '../src/store/pool.ts';
import { runCli } from './support/cli.ts';
import {
  createTestDatabase,
  dropDatabase,
  newDatabaseUrl,
  type TestDatabase,
  testServerUrl,
} from './support/db.ts';

const INITIAL = '1795564800000_initial-schema';
// Every migration shipped, in order: a fresh database gets all of them exactly once.
const ALL = readdirSync(new URL('../src/store/migrations/', import.meta.url))
  .filter((f) => f.endsWith('.sql'))
  .sort()
  .map((f) => f.replace(/\.sql$/, ''));
const created: string[] = [];
const fresh = () => {
  const url = newDatabaseUrl();
  created.push(url);
  return url;
};
afterAll(async () => {
  for (const url of created) await dropDatabase(url);
});

async function tables(url: string): Promise<string[]> {
  const db = openDb({ databaseUrl: url });
  try {
    const rows = await db.query<{ table_name: string }>(
      `SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY 1`,
    );
    return rows.map((r) => r.table_name);
  } finally {
    await db.close();
  }
}

describe('migrate', () => {
  it('creates a missing database, applies the schema, and is a no-op the second time', async () => {
    const url = fresh();
    const first = await migrate({ databaseUrl: url });
    expect(first).toMatchObject({ databaseCreated: true, applied: ALL });
    expect(await tables(url)).toEqual(
      expect.arrayContaining([
        'campaigns',
        'subscribers',
        'consent_events',
        'slots',
        'deliveries',
        'tombstones',
      ]),
    );
    const second = await migrate({ databaseUrl: url });
    expect(second).toMatchObject({ databaseCreated: false, applied: [] });
  });

  it('lets two migrations race on a missing database: both succeed, the schema is applied once', async () => {
    const url = fresh();
    const results = await Promise.all([migrate({ databaseUrl: url }), migrate({ databaseUrl: url })]);
    expect(results.flatMap((r) => r.applied)).toEqual(ALL);
    expect(results.filter((r) => r.databaseCreated)).toHaveLength(1);
    const db = openDb({ databaseUrl: url });
    const rows = await db.query('SELECT name FROM pgmigrations').finally(() => db.close());
    expect(rows).toEqual(ALL.map((name) => ({ name })));
  });
});

describe('the attributes migration', () => {
  it("moves each subscriber's assistant into its attributes, and drops the column", async () => {
    const url = fresh();
    const admin = new Client({ connectionString: testServerUrl() });
    await admin.connect();
    await admin.query(`CREATE DATABASE ${escapeIdentifier(databaseName(url))}`).finally(() => admin.end());
    const mine = ALL.indexOf('1796542617556_subscriber-attributes');
    await runner({
      databaseUrl: url,
      dir: MIGRATIONS_DIR,
      ignorePattern: '(?!.*\\.sql$).*',
      migrationsTable: MIGRATIONS_TABLE,
      direction: 'up',
      count: mine,
      logger: { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} },
    });
    const db = openDb({ databaseUrl: url });
    try {
      await db.exec(
        `INSERT INTO subscribers (id, email, timezone, assistant)
         VALUES ('a', 'a@example.org', 'UTC', 'copilot'), ('b', 'b@example.org', 'UTC', 'both')`,
      );
      expect((await migrate({ databaseUrl: url })).applied).toContain('1796542617556_subscriber-attributes');
      expect(await db.query('SELECT id, attributes FROM subscribers ORDER BY id')).toEqual([
        { id: 'a', attributes: { assistant: 'copilot' } },
        { id: 'b', attributes: { assistant: 'both' } },
      ]);
      const columns = await db.query<{ column_name: string }>(
        `SELECT column_name FROM information_schema.columns WHERE table_name = 'subscribers'`,
      );
      expect(columns.map((c) => c.column_name)).not.toContain('assistant');
    } finally {
      await db.close();
    }
  });

  it('fills in the phone region of subscribers stored before the column, once', async () => {
    const url = fresh();
    const admin = new Client({ connectionString: testServerUrl() });
    await admin.connect();
    await admin.query(`CREATE DATABASE ${escapeIdentifier(databaseName(url))}`).finally(() => admin.end());
    await runner({
      databaseUrl: url,
      dir: MIGRATIONS_DIR,
      ignorePattern: '(?!.*\\.sql$).*',
      migrationsTable: MIGRATIONS_TABLE,
      direction: 'up',
      count: ALL.indexOf('1796552687560_holiday-countries'),
      logger: { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} },
    });
    const db = openDb({ databaseUrl: url });
    try {
      // A French mobile, a Canadian (+1 shared with the US: the area code decides), a London one,
      // an international freephone number (no region) and an email-only subscriber.
      await db.exec(
        `INSERT INTO subscribers (id, phone, email, timezone) VALUES
           ('fr', '+33612345678', NULL, 'UTC'), ('ca', '+14165550123', NULL, 'UTC'),
           ('gb', '+442071838750', NULL, 'UTC'), ('intl', '+80012345678', NULL, 'UTC'),
           ('mail', NULL, 'm@example.org', 'UTC')`,
      );
      expect((await migrate({ databaseUrl: url })).applied).toEqual([
        '1796552687560_holiday-countries',
        ...ALL.slice(ALL.indexOf('1796552687560_holiday-countries') + 1),
      ]);
      expect(await db.query('SELECT id, phone_region FROM subscribers ORDER BY id')).toEqual([
        { id: 'ca', phone_region: 'CA' },
        { id: 'fr', phone_region: 'FR' },
        { id: 'gb', phone_region: 'GB' },
        { id: 'intl', phone_region: '' },
        { id: 'mail', phone_region: null },
      ]);
      // Nothing left for the next run to fill.
      expect(
        await db.query(`SELECT id FROM subscribers WHERE phone IS NOT NULL AND phone_region IS NULL`),
      ).toEqual([]);
    } finally {
      await db.close();
    }
  });
});

describe('schema invariants', () => {
  let t: TestDatabase;
  beforeAll(async () => {
    t = await createTestDatabase();
    await t.db.query(
      `INSERT INTO campaigns (id, name, definition, deadline) VALUES ('c1', 'Campaign', '{}', '2030-01-15T00:00:00Z')`,
    );
    await t.db.query(
      `INSERT INTO campaign_steps (campaign_id, step_id, position, before, channels, template)
       VALUES ('c1', 'd7', 0, 'P7D', '{whatsapp,email}', 'one-week')`,
    );
    await t.db.query(
      `INSERT INTO subscribers (id, phone, email, timezone, attributes)
       VALUES ('s1', '+33612345678', 'ana@example.org', 'Europe/Paris', '{"assistant":"chatgpt"}')`,
    );
  });
  afterAll(() => t?.drop());

  it('keeps at most one delivery per (campaign, step, subscriber, channel)', async () => {
    const insert = `INSERT INTO deliveries (campaign_id, step_id, subscriber_id, channel, kind)
                    VALUES ('c1', 'd7', 's1', 'whatsapp', 'scheduled')`;
    await t.db.exec(insert);
    await expect(t.db.exec(insert)).rejects.toMatchObject({ code: '23505', constraint: 'deliveries_once' });
    expect(
      await t.db.exec(`${insert} ON CONFLICT (campaign_id, step_id, subscriber_id, channel) DO NOTHING`),
    ).toBe(0);
    // Another channel is another message.
    expect(await t.db.exec(insert.replace("'whatsapp'", "'email'"))).toBe(1);
  });

  it('refuses to update a consent event, and erasure deletes it with its subscriber', async () => {
    const event = await t.db.one<{ id: number }>(
      `INSERT INTO consent_events (subscriber_id, channel, kind, source, evidence, occurred_at)
       VALUES ('s1', 'whatsapp', 'import', 'crm export', '{"row": 2}', '2030-01-01T10:00:00Z') RETURNING id`,
    );
    expect(typeof event?.id).toBe('number');
    await expect(
      t.db.exec(`UPDATE consent_events SET source = 'forged' WHERE id = $1`, [event?.id]),
    ).rejects.toThrow(/append-only/);
    await t.db.exec(`INSERT INTO subscribers (id, email, timezone) VALUES ('s2', 'bo@example.org', 'UTC')`);
    await t.db.exec(
      `INSERT INTO consent_events (subscriber_id, kind, source, occurred_at) VALUES ('s2', 'opt_in', 'web', now())`,
    );
    await t.db.exec(`DELETE FROM subscribers WHERE id = 's2'`);
    expect(await t.db.query(`SELECT id FROM consent_events WHERE subscriber_id = 's2'`)).toEqual([]);
  });

  it('keeps one slot per identity, a personal catch-up apart from the zone-wide one', async () => {
    const upsert = `INSERT INTO slots (campaign_id, step_id, zone, channel, send_at, kind, subscriber_id)
                    VALUES ('c1', 'd7', 'Europe/Paris', 'email', '2030-01-08T09:00:00Z', $1, $2)
                    ON CONFLICT (campaign_id, step_id, zone, channel, kind, coalesce(subscriber_id, ''), country, part) DO NOTHING`;
    expect(await t.db.exec(upsert, ['scheduled', null])).toBe(1);
    expect(await t.db.exec(upsert, ['scheduled', null])).toBe(0);
    expect(await t.db.exec(upsert, ['catch-up', null])).toBe(1);
    expect(await t.db.exec(upsert, ['catch-up', 's1'])).toBe(1);
    expect(await t.db.exec(upsert, ['catch-up', 's1'])).toBe(0);
    // Only a catch-up may name a subscriber.
    await expect(
      t.db.exec(upsert.replace("'email'", "'whatsapp'"), ['scheduled', 's1']),
    ).rejects.toMatchObject({
      code: '23514',
    });
  });

  it('rolls a transaction back when its function throws', async () => {
    await expect(
      t.db.tx(async (sql) => {
        await sql.exec(`UPDATE campaigns SET state = 'running' WHERE id = 'c1'`);
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect(await t.db.one(`SELECT state FROM campaigns WHERE id = 'c1'`)).toEqual({ state: 'draft' });
  });

  it('returns bigint ids and counts as numbers, and refuses one past 2^53', async () => {
    expect(await t.db.one('SELECT count(*) AS n, 42::bigint AS id')).toEqual({ n: 1, id: 42 });
    await expect(t.db.query('SELECT 9007199254740993::bigint AS id')).rejects.toThrow(/does not fit/);
  });
});

// Each run starts a Node process that loads the whole CLI: slow on a busy machine.
describe('lastcall db migrate', { timeout: 90_000 }, () => {
  it('creates and migrates the database, then says it is up to date', async () => {
    const url = fresh();
    const first = await runCli(['db', 'migrate'], { DATABASE_URL: url });
    expect(first).toMatchObject({ code: 0, stderr: '' });
    expect(first.stdout).toContain(`applied ${INITIAL}`);
    const second = await runCli(['db', 'migrate'], { DATABASE_URL: url });
    expect(second.code).toBe(0);
    expect(second.stdout).toMatch(/up to date/);
  });

  it('exits 1 naming DATABASE_URL and how to start PostgreSQL when it is unreachable', async () => {
    const port = await freePort();
    const result = await runCli(['db', 'migrate'], {
      DATABASE_URL: `postgres://postgres:hunter2@127.0.0.1:${port}/lastcall`,
    });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(
      `PostgreSQL is unreachable at postgres://postgres:***@127.0.0.1:${port}/lastcall`,
    );
    expect(result.stderr).toContain('DATABASE_URL');
    expect(result.stderr).toMatch(/pg_ctlcluster|docker compose/);
    expect(result.stderr).not.toContain('hunter2');
  });
});
