// The import with its rows validated in worker threads (import.rows.ts; tiny batches here so
// that a few rows spread over several batches, workers and chunks): the same bad rows with the
// same lines and words as validated in the importing thread, duplicates found across batches
// checked by different workers, --strict writing nothing, a file breaking mid-way, erased
// addresses recognised by the hashes a worker computed, and re-imports
// that change exactly what the file changes, including a subscriber changed through the API
// after the import, which the file restores.
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createImportService,
  ERASED_RULE,
  type ImportOptions,
  type ImportService,
} from '../src/subscribers/import.service.ts';
import { tombstoneHash } from '../src/subscribers/subscriber.repository.ts';
import { createUpsertService } from '../src/subscribers/upsert.service.ts';
import { at } from './support/campaign.ts';
import { createTestDatabase, type TestDatabase } from './support/db.ts';

const HEADER =
  'id,name,phone,email,locale,timezone,assistant,channels,consent_at,consent_source,tags,attr.plan';
const now = at('2026-06-01T00:00:00Z');
let t: TestDatabase;
let importer: ImportService;
const csv = (...rows: string[]) => Readable.from([`${HEADER}\n${rows.join('\n')}\n`]);
const row = (n: number, name = `Person ${n}`) =>
  `w${n},${name},+3361200${String(n).padStart(4, '0')},w${n}@example.org,fr,Europe/Paris,chatgpt,whatsapp;email,2025-11-02T14:30:00Z,form,,pro`;
/** Workers from the first row, 3 records a batch, 4 rows a chunk. */
const THREADED: Partial<ImportOptions> = { threads: 2, threadedFrom: 0, batchRecords: 3, batchSize: 4 };
const count = async (table: string, where = 'true') =>
  (await t.db.one<{ n: number }>(`SELECT count(*) AS n FROM ${table} WHERE ${where}`))!.n;

beforeAll(async () => {
  t = await createTestDatabase();
  importer = createImportService({ db: t.db, secretKey: t.config.secretKey });
});
afterAll(() => t.drop());

/** Rows 1–20 with bad ones among them: a bad phone (line 4), a wrong number of fields (line 7),
 *  a repeated phone (line 12, first on line 4) and email (line 17, first on line 9: two batches
 *  and most likely two workers apart), a locale stored as en with a note (line 20), a quoted
 *  field over two lines (row 13, lines 14–15, so later rows' lines shift). */
function mixed(): string[] {
  const rows = Array.from({ length: 20 }, (_, i) => row(i + 1));
  rows[2] = row(3);
  rows[3] = 'w4,Bad Phone,12345,,fr,Europe/Paris,chatgpt,whatsapp,2025-11-02T14:30:00Z,form,,pro';
  rows[5] = 'w6,Too Few,,w6@example.org,fr';
  rows[10] = row(11).replace('+33612000011', '+33612000003');
  rows[12] = row(13).replace(',form,', ',"form\nbooth 2",');
  rows[14] = row(15).replace('w15@example.org', 'w8@example.org');
  rows[17] = row(18).replace(',fr,', ',de,');
  return rows;
}

describe('import with worker threads', () => {
  it('reports the same bad rows, lines and notes as the importing thread alone, and writes the same', async () => {
    const alone = await importer.importFile({ file: csv(...mixed()), now, threads: 0, dryRun: true });
    const threaded = await importer.importFile({ file: csv(...mixed()), now, ...THREADED });
    expect(alone.badRows.map((r) => r.line)).toEqual([5, 7, 12, 17]);
    expect(threaded).toMatchObject({ rows: 20, inserted: 16, bad: 4, committed: true });
    expect(threaded.badRows).toEqual(alone.badRows);
    expect(threaded.notes).toEqual(alone.notes);
    expect(threaded.notes.map((n) => n.line)).toEqual([20]);
    expect(threaded.badRows.find((r) => r.line === 12)?.problems).toEqual([
      { path: 'phone', rule: 'already used on line 4: each phone once per file' },
    ]);
    expect(threaded.badRows.find((r) => r.line === 17)?.problems).toEqual([
      { path: 'email', rule: 'already used on line 9: each email once per file' },
    ]);
    expect(await count('subscribers', `id LIKE 'w%'`)).toBe(16);
    expect(await t.db.one(`SELECT source FROM consent_events WHERE subscriber_id = 'w13' LIMIT 1`)).toEqual({
      source: 'form\nbooth 2',
    });
    expect(
      await t.db.one(
        `SELECT evidence->>'line' AS line FROM consent_events WHERE subscriber_id = 'w20' LIMIT 1`,
      ),
    ).toEqual({ line: '22' });
  });

  it('--strict writes nothing when a row checked by a worker is bad', async () => {
    const rows = Array.from({ length: 10 }, (_, i) => row(100 + i));
    rows[8] = row(108).replace('2025-11-02T14:30:00Z', '2025-13-02T14:30:00Z');
    const summary = await importer.importFile({ file: csv(...rows), now, strict: true, ...THREADED });
    expect(summary).toMatchObject({ committed: false, bad: 1 });
    expect(summary.badRows.map((r) => r.line)).toEqual([10]);
    expect(await count('subscribers', `id BETWEEN 'w100' AND 'w109'`)).toBe(0);
  });

  it('keeps the chunks before a break and names its line', async () => {
    const rows = Array.from({ length: 9 }, (_, i) => row(200 + i));
    const file = Readable.from([`${HEADER}\n${rows.join('\n')}\n"w299,unclosed\n`]);
    await expect(importer.importFile({ file, now, ...THREADED })).rejects.toMatchObject({
      problems: [{ path: 'line 11', rule: expect.stringMatching(/never closed/) }],
    });
    // Chunks of 4: rows 200–203 and 204–207 merged; row 208 was in the chunk the break ended.
    expect(await count('subscribers', `id BETWEEN 'w200' AND 'w207'`)).toBe(8);
  });

  it('a re-import that changes one row changes exactly that subscriber', async () => {
    const rows = Array.from({ length: 12 }, (_, i) => row(300 + i));
    await importer.importFile({ file: csv(...rows), now, ...THREADED });
    const before = await t.db.query<{ id: string; updated_at: Date }>(
      `SELECT id, updated_at FROM subscribers WHERE id BETWEEN 'w300' AND 'w311' ORDER BY id`,
    );
    const events = await count('consent_events');
    rows[6] = row(306, 'Renamed Person');
    const again = await importer.importFile({ file: csv(...rows), now: now + 60_000, ...THREADED });
    expect(again).toMatchObject({
      rows: 12,
      inserted: 0,
      updated: 1,
      unchanged: 11,
      bad: 0,
      consentEvents: 0,
    });
    const after = await t.db.query<{ id: string; updated_at: Date }>(
      `SELECT id, updated_at FROM subscribers WHERE id BETWEEN 'w300' AND 'w311' ORDER BY id`,
    );
    const changed = after.filter((r, i) => r.updated_at.getTime() !== before[i]!.updated_at.getTime());
    expect(changed.map((r) => r.id)).toEqual(['w306']);
    expect(await t.db.one(`SELECT name FROM subscribers WHERE id = 'w306'`)).toEqual({
      name: 'Renamed Person',
    });
    expect(await count('consent_events')).toBe(events);
  });

  it('restores a subscriber changed through the API after the import when the file is imported again', async () => {
    const rows = Array.from({ length: 8 }, (_, i) => row(400 + i));
    await importer.importFile({ file: csv(...rows), now, ...THREADED });
    const api = createUpsertService({ imports: importer });
    const changed = await api.upsert(
      'w403',
      {
        name: 'Changed By API',
        phone: '+33612000403',
        email: 'other403@example.org',
        locale: 'en',
        timezone: 'Europe/London',
        attributes: { plan: 'team' },
        channels: ['whatsapp', 'email'],
        consent_at: '2025-12-01T10:00:00Z',
        consent_source: 'api',
      },
      now + 1,
    );
    expect(changed.outcome).toBe('updated');
    const again = await importer.importFile({ file: csv(...rows), now: now + 2, ...THREADED });
    expect(again).toMatchObject({ rows: 8, updated: 1, unchanged: 7, bad: 0 });
    expect(
      await t.db.one(`SELECT name, email, locale, timezone, attributes FROM subscribers WHERE id = 'w403'`),
    ).toEqual({
      name: 'Person 403',
      email: 'w403@example.org',
      locale: 'fr',
      timezone: 'Europe/Paris',
      attributes: { assistant: 'chatgpt', plan: 'pro' },
    });
    const third = await importer.importFile({ file: csv(...rows), now: now + 3, ...THREADED });
    expect(third).toMatchObject({ updated: 0, unchanged: 8 });
  });

  it('refuses erased addresses in rows whose tombstone hashes a worker computed', async () => {
    const secret = t.config.secretKey!;
    await t.db.exec(`INSERT INTO tombstones (hash, kind) VALUES ($1, 'phone'), ($2, 'email')`, [
      tombstoneHash(secret, 'phone', '+33612009999'),
      tombstoneHash(secret, 'email', 'gone9@example.org'),
    ]);
    const rows = Array.from({ length: 8 }, (_, i) => row(500 + i));
    rows[3] = row(503).replace('+33612000503', '+33612009999');
    rows[6] = row(506).replace('w506@example.org', 'GONE9@example.org');
    const summary = await importer.importFile({ file: csv(...rows), now, ...THREADED });
    expect(summary).toMatchObject({ rows: 8, inserted: 6, bad: 2 });
    expect(summary.badRows).toEqual([
      { line: 5, problems: [{ path: 'phone', rule: ERASED_RULE }] },
      { line: 8, problems: [{ path: 'email', rule: ERASED_RULE }] },
    ]);
    expect(await count('subscribers', `id IN ('w503', 'w506')`)).toBe(0);
  });
});
