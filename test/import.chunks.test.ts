// The COPY import over several chunks (tiny ones here): rows spread over chunks land exactly
// as in one, a bad row in one chunk does not touch the others, text that COPY must escape
// (a backslash, a tab, a line break, a literal \N) arrives intact, a file that breaks mid-way
// keeps the chunks before the break, and --strict over several chunks still writes nothing.
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createImportService, type ImportService } from '../src/subscribers/import.service.ts';
import { at } from './campaign.support.ts';
import { createTestDatabase, type TestDatabase } from './support/db.ts';

const HEADER = 'id,name,phone,email,locale,timezone,assistant,channels,consent_at,consent_source,tags';
const now = at('2026-06-01T00:00:00Z');
let t: TestDatabase;
let importer: ImportService;
const csv = (...rows: string[]) => Readable.from([`${HEADER}\n${rows.join('\n')}\n`]);
const row = (n: number, extra = '') =>
  `c${n},Person ${n},+3361000${String(n).padStart(4, '0')},c${n}@example.org,fr,Europe/Paris,chatgpt,whatsapp;email,2025-11-02T14:30:00Z,form,${extra}`;
const count = async (table: string, where = 'true') =>
  (await t.db.one<{ n: number }>(`SELECT count(*) AS n FROM ${table} WHERE ${where}`))!.n;

beforeAll(async () => {
  t = await createTestDatabase();
  importer = createImportService({ db: t.db, secretKey: t.config.secretKey });
});
afterAll(() => t.drop());

describe('import in chunks', () => {
  it('imports rows spread over chunks, with their bad rows by line, then changes nothing the second time', async () => {
    const rows = [
      row(1),
      row(2),
      'c3,No Consent,,c3@example.org,fr,Europe/Paris,chatgpt,email,,,',
      row(4),
      row(5),
    ];
    const progress: number[] = [];
    const first = await importer.importFile({ file: csv(...rows), label: 'upload.csv', now, batchSize: 2 });
    expect(first).toMatchObject({ file: 'upload.csv', rows: 5, inserted: 4, bad: 1, consentEvents: 8 });
    expect(first.badRows.map((r) => r.line)).toEqual([4]);
    expect(await count('subscriber_channels', `state = 'active'`)).toBe(8);
    const evidence = await t.db.one(
      `SELECT source, evidence FROM consent_events WHERE subscriber_id = 'c5' AND channel = 'email'`,
    );
    expect(evidence).toEqual({
      source: 'form',
      evidence: {
        address: 'c5@example.org',
        consentAt: '2025-11-02T14:30:00.000Z',
        file: 'upload.csv',
        line: 6,
      },
    });

    const again = await importer.importFile({
      file: csv(...rows),
      now: now + 1,
      batchSize: 2,
      onProgress: (n) => progress.push(n),
    });
    expect(again).toMatchObject({ rows: 5, inserted: 0, updated: 0, unchanged: 4, bad: 1, consentEvents: 0 });
    expect(progress.at(-1)).toBe(5);
    expect(await count('consent_events')).toBe(8);
  });

  it('keeps backslashes, tabs and line breaks of quoted fields intact through COPY', async () => {
    const summary = await importer.importFile({
      file: csv(
        `t1,"Back\\slash \\N",,t1@example.org,en,Europe/London,copilot,email,2025-11-02T14:30:00Z,"booth 3\tdesk\nsecond line \\N",`,
      ),
      now,
      batchSize: 1,
    });
    expect(summary).toMatchObject({ inserted: 1, bad: 0 });
    expect(await t.db.one(`SELECT name FROM subscribers WHERE id = 't1'`)).toEqual({
      name: 'Back\\slash \\N',
    });
    expect(await t.db.one(`SELECT source FROM consent_events WHERE subscriber_id = 't1'`)).toEqual({
      source: 'booth 3\tdesk\nsecond line \\N',
    });
  });

  it('keeps the chunks committed before a file that cannot be read further, as a re-run would finish', async () => {
    const broken = Readable.from([`${HEADER}\n${row(11)}\n${row(12)}\n${row(13)}\n"c14,unclosed\n`]);
    await expect(importer.importFile({ file: broken, now, batchSize: 2 })).rejects.toThrow(/not valid CSV/);
    expect(await count('subscribers', `id IN ('c11', 'c12')`)).toBe(2);
    expect(await count('subscribers', `id = 'c13'`)).toBe(0);
  });

  it('--strict over several chunks writes nothing when a later chunk has a bad row', async () => {
    const summary = await importer.importFile({
      file: csv(
        row(21),
        row(22),
        row(23),
        `c24,Bad Phone,12345,,fr,Europe/Paris,chatgpt,whatsapp,2025-11-02T14:30:00Z,form,`,
      ),
      now,
      strict: true,
      batchSize: 2,
    });
    expect(summary).toMatchObject({ committed: false, inserted: 3, bad: 1 });
    expect(await count('subscribers', `id IN ('c21', 'c22', 'c23')`)).toBe(0);
  });
});
