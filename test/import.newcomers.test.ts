// A chunk of subscribers none of which exists yet (a first import) is written with plain
// INSERTs, without locking or reading the subscribers first; when one exists after all (an
// earlier import, or a sign-up committed while the chunk waited on it), the chunk takes the
// full merge in the same transaction and lands exactly as it would have
// (docs/subscribers.md, "How an import works"). Which statement wrote the subscribers is told by
// a statement trigger this file adds, which notes each INSERT's text.
import { Readable } from 'node:stream';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createImportService, type ImportService } from '../src/subscribers/import.service.ts';
import { at } from './support/campaign.ts';
import { createTestDatabase, type TestDatabase } from './support/db.ts';

const HEADER = 'id,name,phone,email,locale,timezone,assistant,channels,consent_at,consent_source,tags';
const now = at('2026-06-01T00:00:00Z');
let t: TestDatabase;
let importer: ImportService;
const csv = (...rows: string[]) => Readable.from([`${HEADER}\n${rows.join('\n')}\n`]);
const row = (n: number, channels = 'whatsapp;email') =>
  `n${n},Person ${n},+3361100${String(n).padStart(4, '0')},n${n}@example.org,fr,Europe/Paris,chatgpt,${channels},2025-11-02T14:30:00Z,form,vip`;

/** How each statement that inserted subscribers was written: 'plain' or 'upsert' (ON CONFLICT). */
const writes = async () =>
  (await t.db.query<{ kind: string }>('SELECT kind FROM test_subscriber_writes ORDER BY seq')).map(
    (r) => r.kind,
  );

beforeAll(async () => {
  t = await createTestDatabase();
  importer = createImportService({ db: t.db, secretKey: t.config.secretKey });
  await t.db.exec(`
    CREATE TABLE test_subscriber_writes (seq bigserial, kind text NOT NULL);
    CREATE FUNCTION test_note_subscriber_write() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      INSERT INTO test_subscriber_writes (kind)
      VALUES (CASE WHEN current_query() ILIKE '%ON CONFLICT%' THEN 'upsert' ELSE 'plain' END);
      RETURN NULL;
    END $$;
    CREATE TRIGGER test_note_subscriber_write AFTER INSERT ON subscribers
      FOR EACH STATEMENT EXECUTE FUNCTION test_note_subscriber_write()`);
});
afterAll(() => t.drop());
beforeEach(async () => {
  await t.db.exec('TRUNCATE subscribers CASCADE; TRUNCATE test_subscriber_writes');
});

const channels = async (id: string) =>
  t.db.query(
    'SELECT channel, state, consent_at FROM subscriber_channels WHERE subscriber_id = $1 ORDER BY channel',
    [id],
  );
const events = async (id: string) =>
  t.db.query(
    'SELECT channel, kind, source, evidence FROM consent_events WHERE subscriber_id = $1 ORDER BY id',
    [id],
  );

describe('a chunk of new subscribers', () => {
  it('is inserted without the merge, with the same rows, channels and evidence', async () => {
    const summary = await importer.importFile({
      file: csv(row(1), row(2, 'email'), row(3, 'whatsapp'), row(4), row(5)),
      label: 'list.csv',
      now,
      batchSize: 2,
    });
    expect(summary).toMatchObject({
      rows: 5,
      inserted: 5,
      updated: 0,
      unchanged: 0,
      bad: 0,
      consentEvents: 8,
    });
    expect(await writes()).toEqual(['plain', 'plain', 'plain']);
    expect(
      await t.db.one(
        'SELECT name, phone, email, timezone, tags, attributes, created_at FROM subscribers WHERE id = $1',
        ['n2'],
      ),
    ).toEqual({
      name: 'Person 2',
      phone: '+33611000002',
      email: 'n2@example.org',
      timezone: 'Europe/Paris',
      tags: ['vip'],
      attributes: { assistant: 'chatgpt' },
      created_at: new Date(now),
    });
    expect(await channels('n2')).toEqual([
      { channel: 'email', state: 'active', consent_at: new Date('2025-11-02T14:30:00Z') },
    ]);
    expect(await events('n4')).toEqual([
      {
        channel: 'whatsapp',
        kind: 'import',
        source: 'form',
        evidence: {
          address: '+33611000004',
          consentAt: '2025-11-02T14:30:00.000Z',
          file: 'list.csv',
          line: 5,
        },
      },
      {
        channel: 'email',
        kind: 'import',
        source: 'form',
        evidence: {
          address: 'n4@example.org',
          consentAt: '2025-11-02T14:30:00.000Z',
          file: 'list.csv',
          line: 5,
        },
      },
    ]);
    // Each newcomer kept its row's digest: the same file again is known unchanged, unread.
    const again = await importer.importFile({
      file: csv(row(1), row(2, 'email'), row(3, 'whatsapp'), row(4), row(5)),
      now: now + 1,
      batchSize: 2,
    });
    expect(again).toMatchObject({ rows: 5, inserted: 0, updated: 0, unchanged: 5, consentEvents: 0 });
    expect(await writes()).toEqual(['plain', 'plain', 'plain']);
  });

  it('takes the full merge, nothing half-written, when a row of the chunk exists', async () => {
    await importer.importFile({ file: csv(row(2)), now, batchSize: 10 });
    await t.db.exec('TRUNCATE test_subscriber_writes');
    // n2 now with another name; n1 and n3 new: the chunk's plain insert fails on n2 and is undone.
    const summary = await importer.importFile({
      file: csv(row(1), row(2).replace('Person 2', 'Person Two'), row(3)),
      now: now + 1,
      batchSize: 10,
    });
    expect(summary).toMatchObject({ rows: 3, inserted: 2, updated: 1, bad: 0, consentEvents: 4 });
    expect(await writes()).toEqual(['upsert']);
    expect(await t.db.one('SELECT count(*)::int AS n FROM subscribers')).toEqual({ n: 3 });
    expect(await t.db.one(`SELECT name FROM subscribers WHERE id = 'n2'`)).toEqual({ name: 'Person Two' });
    // n2's evidence was recorded once, by the first import.
    expect(await events('n2')).toHaveLength(2);
    expect(await events('n1')).toHaveLength(2);
  });

  it('falls back to the full merge when a sign-up of the same person commits while the chunk waits on it', async () => {
    let release!: () => void;
    const released = new Promise<void>((resolve) => {
      release = resolve;
    });
    let signedUp!: () => void;
    const written = new Promise<void>((resolve) => {
      signedUp = resolve;
    });
    // The sign-up: n2 with a pending email channel and its opt-in, committed once the import waits.
    const signUp = t.db.tx(async (sql) => {
      await sql.exec(
        `INSERT INTO subscribers (id, name, phone, email, locale, timezone) VALUES ('n2', 'Signed Up', NULL, 'n2@example.org', 'fr', 'Europe/Paris')`,
      );
      await sql.exec(
        `INSERT INTO subscriber_channels (subscriber_id, channel, state) VALUES ('n2', 'email', 'pending')`,
      );
      await sql.exec(
        `INSERT INTO consent_events (subscriber_id, channel, kind, source, occurred_at) VALUES ('n2', 'email', 'opt_in', 'web', now())`,
      );
      signedUp();
      await released;
    });
    await written;
    const imported = importer.importFile({ file: csv(row(1), row(2), row(3)), now, batchSize: 10 });
    // The chunk's insert waits on the sign-up's uncommitted n2.
    for (let waited = 0; ; waited += 20) {
      const waiting = await t.db.one(
        `SELECT 1 FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'
            AND query ILIKE 'INSERT INTO subscribers%'`,
      );
      if (waiting) break;
      if (waited > 10_000) throw new Error('the import never waited on the sign-up');
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    release();
    await signUp;
    const summary = await imported;
    expect(summary).toMatchObject({ rows: 3, inserted: 2, updated: 1, bad: 0, consentEvents: 6 });
    // The sign-up's insert, then the merge's (the chunk's failed plain insert was undone).
    expect(await writes()).toEqual(['plain', 'upsert']);
    expect(await t.db.one(`SELECT name, phone FROM subscribers WHERE id = 'n2'`)).toEqual({
      name: 'Person 2',
      phone: '+33611000002',
    });
    expect((await channels('n2')).map((c) => c.state)).toEqual(['active', 'active']);
    expect((await events('n2')).map((e) => `${e.channel} ${e.kind}`)).toEqual([
      'email opt_in',
      'whatsapp import',
      'email import',
    ]);
    expect(await t.db.one('SELECT count(*)::int AS n FROM subscribers')).toEqual({ n: 3 });
  });
});
