// The re-import fast path (docs/subscribers.md, "How an import works"): a row whose stored digest
// says it is unchanged is not validated, staged or merged again. Each test runs the same steps on
// two databases, one importing with the digests and one without (`knownDigests: false`, the
// import as it was before them), and both must end with the same summaries and the same rows:
// after an opt-out, an API edit, a bounce or an erasure the row is merged again by the ordinary
// rules; the duplicate check still sees the skipped rows' ids, phones and emails; a changed row
// is validated again.
import { Readable } from 'node:stream';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { findKnown, knownKeys, loadKnownDigests } from '../src/subscribers/import.digest.ts';
import type { ImportOptions, ImportSummary } from '../src/subscribers/import.service.ts';
import { at } from './support/campaign.ts';
import { createTestDatabase, type TestDatabase } from './support/db.ts';
import { testServices } from './support/services.ts';
import { tableSnapshot } from './support/snapshot.ts';

const HEADER = 'id,name,phone,email,locale,timezone,assistant,channels,consent_at,consent_source,tags';
const ROWS = [
  's1,Amélie Durand,+33612345678,amelie@example.org,fr,Europe/Paris,chatgpt,whatsapp;email,2025-11-02T14:30:00Z,newsletter form 2025-11,beta',
  's2,Bob Smith,,bob@example.com,en,America/New_York,copilot,email,2025-11-03T09:00:00-05:00,event signup,',
  's3,"Chandra, K.",+919812345678,,en-IN,Asia/Kolkata,both,whatsapp,2025-11-04T10:00:00+05:30,shop counter,beta;vip',
  's4,Dana Weiss,+4915112345678,dana@example.de,en,Europe/Berlin,,whatsapp;email,2025-11-05T08:00:00Z,fair stand,',
  // A language neither fr nor en: imported with a note, so never skipped (the note is said each time).
  's5,Eva Novak,,eva@example.cz,cs,Europe/Prague,,email,2025-11-06T08:00:00Z,fair stand,',
];
const csv = (rows: readonly string[], header = HEADER) => Readable.from([`${header}\n${rows.join('\n')}\n`]);
const now = at('2026-06-01T00:00:00Z');
const TABLES = ['subscribers', 'subscriber_channels', 'consent_events', 'tombstones'];

let fast: TestDatabase;
let slow: TestDatabase;
beforeAll(async () => {
  [fast, slow] = await Promise.all([createTestDatabase(), createTestDatabase()]);
});
afterAll(async () => {
  await Promise.all([fast?.drop(), slow?.drop()]);
});
beforeEach(async () => {
  for (const t of [fast, slow])
    await t.db.exec(
      'TRUNCATE subscribers, tombstones, campaigns, deliveries, event_outbox RESTART IDENTITY CASCADE',
    );
});

const services = (t: TestDatabase) => testServices(t.config, t.db);

/** One import into a database: with the digests into `fast`, without them into `slow`. */
async function importInto(
  t: TestDatabase,
  rows: readonly string[],
  options: Partial<ImportOptions> & { header?: string } = {},
): Promise<{ summary: ImportSummary; known: number }> {
  let known = -1;
  const { header, ...rest } = options;
  const summary = await services(t).imports.importFile({
    file: csv(rows, header),
    label: 'subscribers.csv',
    now,
    knownDigests: t === fast,
    onKnown: (n) => {
      known = n;
    },
    ...rest,
  });
  return { summary, known };
}

/** What an import decides, without the columns that differ by clock or by the fast path itself. */
async function state(t: TestDatabase) {
  return {
    subscribers: await t.db.query(
      `SELECT id, name, phone, email, locale, timezone, tags, attributes, done_at, phone_region
         FROM subscribers ORDER BY id`,
    ),
    channels: await t.db.query(
      'SELECT subscriber_id, channel, state, consent_at FROM subscriber_channels ORDER BY subscriber_id, channel',
    ),
    events: await t.db.query(
      `SELECT subscriber_id, channel, kind, source, evidence, occurred_at FROM consent_events
        ORDER BY subscriber_id, channel, occurred_at, kind, evidence::text`,
    ),
    tombstones: await t.db.query('SELECT kind FROM tombstones ORDER BY kind'),
  };
}

const digestOf = async (t: TestDatabase, id: string) =>
  (await t.db.one<{ d: Buffer | null }>('SELECT import_digest AS d FROM subscribers WHERE id = $1', [id]))
    ?.d ?? null;

/** The same steps on both databases; their results side by side. */
async function both<T>(step: (t: TestDatabase) => Promise<T>): Promise<[T, T]> {
  return [await step(fast), await step(slow)];
}

describe('an unchanged re-import', () => {
  it('skips every row it knows, changes nothing and reports them all unchanged', async () => {
    await both((t) => importInto(t, ROWS));
    // Every subscriber without a note keeps its row's digest from the first import.
    expect(await fast.db.query('SELECT id FROM subscribers WHERE import_digest IS NULL')).toEqual([
      { id: 's5' },
    ]);
    const before = await tableSnapshot(fast.db, TABLES);
    const [again, without] = await both((t) => importInto(t, ROWS));
    expect(again.summary).toEqual(without.summary);
    expect(again.summary).toMatchObject({
      rows: 5,
      inserted: 0,
      updated: 0,
      unchanged: 5,
      bad: 0,
      consentEvents: 0,
    });
    // s5 is validated again and says its note again.
    expect(again.summary.notes).toEqual([
      { line: 6, problems: [{ path: 'locale', value: '"cs"', rule: 'is neither fr nor en: stored as en' }] },
    ]);
    expect(again.known).toBe(4);
    expect(without.known).toBe(0);
    expect(await tableSnapshot(fast.db, TABLES)).toBe(before);
    expect(await state(fast)).toEqual(await state(slow));
  });

  it('gives the digests to rows it found unchanged without them, then skips those too', async () => {
    await both((t) => importInto(t, ROWS));
    await fast.db.exec('ALTER TABLE subscribers DISABLE TRIGGER subscribers_import_digest_clear');
    await fast.db.exec('UPDATE subscribers SET import_digest = NULL');
    await fast.db.exec('ALTER TABLE subscribers ENABLE TRIGGER subscribers_import_digest_clear');
    const touched = await fast.db.query('SELECT id, updated_at FROM subscribers ORDER BY id');
    const first = await importInto(fast, ROWS);
    expect(first.known).toBe(0);
    // Giving a row its digest is no change of the person's data.
    expect(await fast.db.query('SELECT id, updated_at FROM subscribers ORDER BY id')).toEqual(touched);
    expect(first.summary).toMatchObject({ unchanged: 5, updated: 0 });
    expect(await fast.db.query('SELECT id FROM subscribers WHERE import_digest IS NULL')).toEqual([
      { id: 's5' },
    ]);
    expect((await importInto(fast, ROWS)).known).toBe(4);
  });

  it('does not give a row its digest when an opt-out commits while the import looks at it', async () => {
    await importInto(fast, ROWS);
    await fast.db.exec('ALTER TABLE subscribers DISABLE TRIGGER subscribers_import_digest_clear');
    await fast.db.exec('UPDATE subscribers SET import_digest = NULL');
    await fast.db.exec('ALTER TABLE subscribers ENABLE TRIGGER subscribers_import_digest_clear');
    // An opt-out in progress: the subscriber locked and the channel ended, not yet committed.
    const optOut = await fast.pool.connect();
    try {
      await optOut.query('BEGIN');
      await optOut.query(`SELECT 1 FROM subscribers WHERE id = 's1' FOR UPDATE`);
      await optOut.query(
        `UPDATE subscriber_channels SET state = 'unsubscribed' WHERE subscriber_id = 's1' AND channel = 'whatsapp'`,
      );
      await optOut.query(
        `INSERT INTO consent_events (subscriber_id, channel, kind, source, occurred_at)
         VALUES ('s1', 'whatsapp', 'opt_out', 'unsubscribe-link', '2026-01-01T00:00:00Z')`,
      );
      // The import sees s1 unchanged (its snapshot predates the opt-out) and waits for the lock
      // to give it its digest.
      const importing = importInto(fast, ROWS);
      for (let i = 0; ; i++) {
        const waiting = await fast.db.one(
          `SELECT 1 FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`,
        );
        if (waiting) break;
        if (i > 600) throw new Error('the import never waited for the opt-out');
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      await optOut.query('COMMIT');
      const summary = (await importing).summary;
      expect(summary).toMatchObject({ unchanged: 5 });
    } finally {
      optOut.release();
    }
    // The row version the import read is gone: no digest, so the next import merges s1 again.
    expect(await digestOf(fast, 's1')).toBeNull();
    expect(await fast.db.query('SELECT id FROM subscribers WHERE import_digest IS NULL ORDER BY id')).toEqual(
      [{ id: 's1' }, { id: 's5' }],
    );
    const next = await importInto(fast, ROWS);
    expect(next.known).toBe(3);
    expect(next.summary).toMatchObject({ optOutsKept: 1 });
  });

  it('validates every row again when the columns differ (the digest covers the header)', async () => {
    await both((t) => importInto(t, ROWS));
    // One more column, empty in every row (an empty attribute cell removes nothing stored here).
    const wider = ROWS.map((row) => `${row},`);
    const [again, without] = await both((t) => importInto(t, wider, { header: `${HEADER},attr.plan` }));
    expect(again.known).toBe(0);
    expect(again.summary).toEqual(without.summary);
    expect(again.summary).toMatchObject({ unchanged: 5, bad: 0 });
  });
});

describe('after a change made elsewhere, the row is merged again exactly as without the digests', () => {
  /** Imports ROWS twice into both (the fast one then knows every row), makes `change` on both,
   *  and imports ROWS again: same summaries, same rows. */
  async function afterChange(id: string, change: (t: TestDatabase) => Promise<void>) {
    await both((t) => importInto(t, ROWS));
    expect((await importInto(fast, ROWS)).known).toBe(4);
    await importInto(slow, ROWS);
    await both(change);
    expect(await digestOf(fast, id)).toBeNull();
    expect(
      await fast.db.query('SELECT id FROM subscribers WHERE import_digest IS NULL AND id <> $1 ORDER BY id', [
        id,
      ]),
    ).toEqual([{ id: 's5' }]);
    const [again, without] = await both((t) => importInto(t, ROWS));
    expect(again.summary).toEqual(without.summary);
    expect(await state(fast)).toEqual(await state(slow));
    // Every row but the changed one (and s5, never skipped) was known by its digest.
    expect(again.known).toBe(3);
    return again.summary;
  }

  it('an opt-out (the unsubscribe link): the opt-out is kept', async () => {
    const summary = await afterChange('s1', async (t) => {
      await services(t).subscriptions.unsubscribe('s1', 'whatsapp', 'unsubscribe-link', now);
    });
    expect(summary).toMatchObject({ optOutsKept: 1, consentEvents: 0, updated: 0 });
    for (const t of [fast, slow])
      expect(
        await t.db.one(
          `SELECT state FROM subscriber_channels WHERE subscriber_id = 's1' AND channel = 'whatsapp'`,
        ),
      ).toEqual({
        state: 'unsubscribed',
      });
    // Kept off: no digest, so the next import merges it again too.
    expect(await digestOf(fast, 's1')).toBeNull();
  });

  it('an API edit: the file puts the profile back', async () => {
    const summary = await afterChange('s4', async (t) => {
      await services(t).upserts.upsert(
        's4',
        {
          name: 'Dana W.',
          phone: '+4915112345678',
          email: 'dana@example.de',
          locale: 'de',
          timezone: 'Europe/Berlin',
          channels: ['whatsapp', 'email'],
          consent_at: '2025-11-05T08:00:00Z',
          consent_source: 'fair stand',
        },
        now,
      );
    });
    expect(summary).toMatchObject({ updated: 1, consentEvents: 0 });
    expect(await fast.db.one(`SELECT name, locale FROM subscribers WHERE id = 's4'`)).toEqual({
      name: 'Dana Weiss',
      locale: 'en',
    });
    expect(await digestOf(fast, 's4')).not.toBeNull();
  });

  it('a profile change by SQL or a sign-up (any update of the row) clears the digest', async () => {
    const summary = await afterChange('s3', async (t) => {
      await t.db.exec(`UPDATE subscribers SET tags = '{beta}' WHERE id = 's3'`);
    });
    expect(summary).toMatchObject({ updated: 1 });
  });

  it('a bounce: the bounced channel stays bounced', async () => {
    const summary = await afterChange('s2', async (t) => {
      await t.db.exec(
        `INSERT INTO campaigns (id, name, state, definition, deadline) VALUES ('c', 'C', 'running', '{}', now() + interval '1 day')`,
      );
      const [delivery] = await t.db.query<{ id: number }>(
        `INSERT INTO deliveries (campaign_id, step_id, subscriber_id, channel, kind, status)
         VALUES ('c', 'd1', 's2', 'email', 'scheduled', 'sent') RETURNING id`,
      );
      const result = await services(t).bounces.recordEmailReport(
        delivery!.id,
        { kind: 'bounce', status: '5.1.1', action: 'failed' },
        now,
      );
      expect(result.ended).toBe('bounced');
    });
    expect(summary).toMatchObject({ optOutsKept: 1, consentEvents: 0 });
    expect(await fast.db.one(`SELECT state FROM subscriber_channels WHERE subscriber_id = 's2'`)).toEqual({
      state: 'bounced',
    });
  });

  it('an erasure: the row is refused by its tombstone', async () => {
    await both((t) => importInto(t, ROWS));
    await importInto(fast, ROWS);
    await importInto(slow, ROWS);
    await both(async (t) => {
      await services(t).erasures.forget({ kind: 'id', value: 's1' }, now);
    });
    const [again, without] = await both((t) => importInto(t, ROWS));
    expect(again.summary).toEqual(without.summary);
    expect(again.summary).toMatchObject({ bad: 1, unchanged: 4 });
    expect(again.summary.badRows.map((b) => b.line)).toEqual([2]);
    expect(await state(fast)).toEqual(await state(slow));
    expect(again.known).toBe(3);
  });
});

describe('the duplicate check sees the rows skipped by their digest', () => {
  it('refuses a new row using the email of a skipped row, and a skipped row using the phone of a new one', async () => {
    await both((t) => importInto(t, ROWS));
    const rows = [
      // Line 2, new: s3's phone, which s3 (skipped, line 5) then repeats.
      's9,Ivo Ivanov,+919812345678,,en,Asia/Kolkata,,whatsapp,2025-11-07T08:00:00Z,fair stand,',
      ...ROWS.slice(0, 3),
      // Line 6, new: the email of s2 (skipped, line 4).
      's8,Hugo Hall,,bob@example.com,en,Europe/London,,email,2025-11-07T08:00:00Z,fair stand,',
    ];
    const [again, without] = await both((t) => importInto(t, rows));
    expect(again.known).toBe(2);
    expect(again.summary).toEqual(without.summary);
    expect(again.summary.badRows).toEqual([
      // Line 2 is refused by the database too (s3 holds that phone), after the file's check.
      { line: 2, problems: [{ path: 'phone', rule: 'already belongs to another subscriber (id s3)' }] },
      { line: 5, problems: [{ path: 'phone', rule: 'already used on line 2: each phone once per file' }] },
      { line: 6, problems: [{ path: 'email', rule: 'already used on line 4: each email once per file' }] },
    ]);
    expect(again.summary).toMatchObject({ inserted: 0, unchanged: 2, bad: 3 });
    expect(await state(fast)).toEqual(await state(slow));
  });

  it('refuses a repeated id whichever of the two rows is known', async () => {
    await both((t) => importInto(t, ROWS));
    const rows = [ROWS[0]!, ROWS[0]!.replace('Amélie Durand', 'Amélie D.')];
    const [again, without] = await both((t) => importInto(t, rows));
    expect(again.summary).toEqual(without.summary);
    expect(again.summary.badRows).toEqual([
      {
        line: 3,
        problems: [
          { path: 'id', rule: 'already used on line 2: each id once per file' },
          { path: 'phone', rule: 'already used on line 2: each phone once per file' },
          { path: 'email', rule: 'already used on line 2: each email once per file' },
        ],
      },
    ]);
  });
});

describe('a changed row is validated again', () => {
  it('reports the field and the rule of a bad value and writes nothing for it', async () => {
    await both((t) => importInto(t, ROWS));
    const before = await tableSnapshot(fast.db, TABLES);
    const rows = [
      ROWS[0]!,
      ROWS[1]!.replace('bob@example.com', 'bob-at-example.com'),
      ROWS[2]!.replace('+919812345678', '+91 12'),
      ROWS[3]!,
    ];
    const [again, without] = await both((t) => importInto(t, rows));
    expect(again.summary).toEqual(without.summary);
    expect(again.summary.badRows).toEqual([
      { line: 3, problems: [{ path: 'email', rule: 'must be an email address like name@example.org' }] },
      { line: 4, problems: [{ path: 'phone', rule: expect.stringContaining('E.164') }] },
    ]);
    expect(again.known).toBe(2);
    expect(await tableSnapshot(fast.db, TABLES)).toBe(before);

    const strict = await importInto(fast, rows, { strict: true });
    expect(strict.summary).toMatchObject({ committed: false, bad: 2, unchanged: 2 });
    expect(await tableSnapshot(fast.db, TABLES)).toBe(before);
  });

  it('writes a good change and stores the new record’s digest', async () => {
    await both((t) => importInto(t, ROWS));
    const old = await digestOf(fast, 's2');
    const rows = [...ROWS.slice(0, 1), ROWS[1]!.replace('Bob Smith', 'Robert Smith'), ...ROWS.slice(2)];
    const [again, without] = await both((t) => importInto(t, rows));
    expect(again.summary).toEqual(without.summary);
    expect(again.summary).toMatchObject({ updated: 1, unchanged: 4 });
    expect(again.known).toBe(3);
    expect(await state(fast)).toEqual(await state(slow));
    const changed = await digestOf(fast, 's2');
    expect(changed).not.toBeNull();
    expect(changed).not.toEqual(old);
    expect((await importInto(fast, rows)).known).toBe(4);
  });
});

describe('records hashed as raw bytes before csv-parse (import.sift.ts)', () => {
  /** s6's consent_source is a quoted field over lines 6–7; s7 has "" inside a quoted name. */
  const QUOTED = [
    ...ROWS.slice(0, 4),
    's6,Fay Lee,,fay@example.org,en,Europe/London,,email,2025-11-07T08:00:00Z,"paper form,\nbox 3",',
    's7,"Gil ""G"" Ruiz",,gil@example.org,en,Europe/Madrid,,email,2025-11-08T08:00:00Z,"fair, stand",',
  ];

  it('catches a change in the second line of a multi-line quoted record, and inside quotes', async () => {
    await both((t) => importInto(t, QUOTED));
    const [again, without] = await both((t) => importInto(t, QUOTED));
    expect(again.summary).toEqual(without.summary);
    expect(again.summary).toMatchObject({ unchanged: 6, updated: 0 });
    expect(again.known).toBe(6);
    const changed = QUOTED.map((row) =>
      row.replace('box 3"', 'box 4"').replace('"Chandra, K."', '"Chandra, R."'),
    );
    const [next, nextWithout] = await both((t) => importInto(t, changed));
    expect(next.summary).toEqual(nextWithout.summary);
    expect(next.summary).toMatchObject({ updated: 2, unchanged: 4, bad: 0 });
    expect(next.known).toBe(4);
    expect(await state(fast)).toEqual(await state(slow));
    expect(
      await fast.db.query("SELECT id, name FROM subscribers WHERE id IN ('s3', 's7') ORDER BY id"),
    ).toEqual([
      { id: 's3', name: 'Chandra, R.' },
      { id: 's7', name: 'Gil "G" Ruiz' },
    ]);
    expect((await importInto(fast, changed)).known).toBe(6);
  });

  it('keeps line numbers right around known records: a bad row after them is reported on its own line', async () => {
    await both((t) => importInto(t, QUOTED));
    const rows = [...QUOTED, 's8,Hal,,not-an-email,en,Europe/Paris,,email,2025-11-09T08:00:00Z,fair,'];
    const [again, without] = await both((t) => importInto(t, rows));
    expect(again.summary).toEqual(without.summary);
    expect(again.summary.badRows).toEqual([
      { line: 9, problems: [{ path: 'email', rule: 'must be an email address like name@example.org' }] },
    ]);
    expect(again.known).toBe(6);
  });

  it('keeps line numbers right in a CRLF file whose quoted field holds a CRLF', async () => {
    const crlf = (rows: readonly string[]) =>
      Readable.from([`${HEADER}\r\n${rows.map((r) => r.replace('form,\n', 'form,\r\n')).join('\r\n')}\r\n`]);
    const rows = [...QUOTED, 's8,Hal,,not-an-email,en,Europe/Paris,,email,2025-11-09T08:00:00Z,fair,'];
    const run = async (t: TestDatabase) => {
      let known = -1;
      const summary = await services(t).imports.importFile({
        file: crlf(rows),
        label: 'subscribers.csv',
        now,
        knownDigests: t === fast,
        onKnown: (n) => {
          known = n;
        },
      });
      return { summary, known };
    };
    await both(run);
    const [again, without] = await both(run);
    expect(again.summary).toEqual(without.summary);
    expect(again.summary.badRows.map((b) => b.line)).toEqual([9]);
    expect(again.known).toBe(6);
    expect(await state(fast)).toEqual(await state(slow));
  });

  it('validates every row again when the stored digests were made by other rules, then stores the new ones', async () => {
    await both((t) => importInto(t, ROWS));
    // What a rules version bump does to stored digests: none of them matches any more.
    await fast.db.exec('ALTER TABLE subscribers DISABLE TRIGGER subscribers_import_digest_clear');
    await fast.db.exec(
      'UPDATE subscribers SET import_digest = set_byte(import_digest, 0, get_byte(import_digest, 0) # 255)',
    );
    await fast.db.exec('ALTER TABLE subscribers ENABLE TRIGGER subscribers_import_digest_clear');
    const [again, without] = await both((t) => importInto(t, ROWS));
    expect(again.known).toBe(0);
    expect(again.summary).toEqual(without.summary);
    expect(again.summary).toMatchObject({ unchanged: 5, updated: 0, bad: 0 });
    expect((await importInto(fast, ROWS)).known).toBe(4);
  });
});

describe('loading the stored digests', () => {
  it('finds every stored digest and its keys, also when the table had to grow', async () => {
    await importInto(fast, ROWS);
    const stored = await fast.db.query<{ d: Buffer }>(
      'SELECT import_digest AS d FROM subscribers WHERE import_digest IS NOT NULL ORDER BY id',
    );
    expect(stored).toHaveLength(4);
    for (const capacity of [undefined, 1]) {
      const known = (await loadKnownDigests(fast.db, capacity))!;
      for (const { d } of stored) {
        const digest = new Uint32Array([0, 4, 8, 12].map((at) => d.readUInt32BE(at)));
        const index = findKnown(known, digest, 0);
        expect(index).toBeGreaterThanOrEqual(0);
        const keys = new Uint32Array(6);
        expect(knownKeys(known, index, keys, 0)).toBe(d[16]);
        expect([...keys]).toEqual([0, 1, 2, 3, 4, 5].map((k) => d.readUInt32BE(17 + k * 4)));
      }
      const other = new Uint32Array([1, 2, 3, 4]);
      expect(findKnown(known, other, 0)).toBe(-1);
    }
    await fast.db.exec('UPDATE subscribers SET import_digest = NULL');
    expect(await loadKnownDigests(fast.db)).toBeUndefined();
  });
});
