// The COPY import over several chunks (tiny ones here): rows spread over chunks land exactly
// as in one, a bad row in one chunk does not touch the others, text that COPY must escape
// (a backslash, a tab, a line break, a literal \N) arrives intact, a file that breaks mid-way
// keeps the chunks before the break, and --strict over several chunks still writes nothing.
// Chunks merge two at a time on two connections: rows of two chunks that lock the same existing
// subscriber, and chunks planning into the same running campaign, land as one chunk would.
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCampaignService } from '../src/campaigns/campaign.service.ts';
import { createImportService, type ImportService } from '../src/subscribers/import.service.ts';
import { at, campaignFile, slotsOf } from './support/campaign.ts';
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

  it("merges chunks side by side: two chunks claiming one existing subscriber's phone and email are both refused", async () => {
    await importer.importFile({
      file: csv(
        'holder,Holder,+33610009001,holder@example.org,fr,Europe/Paris,chatgpt,whatsapp;email,2025-11-02T14:30:00Z,form,',
      ),
      now,
    });
    const rows = Array.from({ length: 30 }, (_, i) => row(500 + i));
    // Row 5 (chunk 2) takes the holder's phone, row 14 (chunk 5) its email: both chunks lock the holder.
    rows[4] = 'p104,Phone Thief,+33610009001,,fr,Europe/Paris,chatgpt,whatsapp,2025-11-02T14:30:00Z,form,';
    rows[13] =
      'p113,Email Thief,,holder@example.org,fr,Europe/Paris,chatgpt,email,2025-11-02T14:30:00Z,form,';
    const summary = await importer.importFile({ file: csv(...rows), now, batchSize: 3 });
    expect(summary).toMatchObject({
      rows: 30,
      inserted: 28,
      updated: 0,
      unchanged: 0,
      bad: 2,
      consentEvents: 56,
    });
    expect(summary.badRows).toEqual([
      { line: 6, problems: [{ path: 'phone', rule: 'already belongs to another subscriber (id holder)' }] },
      { line: 15, problems: [{ path: 'email', rule: 'already belongs to another subscriber (id holder)' }] },
    ]);
    expect(await count('subscribers', `id BETWEEN 'c500' AND 'c529'`)).toBe(28);
    expect(await count('subscriber_channels', `subscriber_id = 'holder' AND state = 'active'`)).toBe(2);
    expect(await count('subscribers', `id IN ('p104', 'p113')`)).toBe(0);
  });

  it('plans the subscribers of chunks merged side by side into a running campaign, each zone slot once', async () => {
    const campaigns = createCampaignService({ db: t.db });
    await campaigns.create(campaignFile('side-by-side'), at('2030-01-01T00:00:00Z'));
    await campaigns.start('side-by-side', at('2030-01-01T00:00:00Z'));
    const zones = ['Asia/Tokyo', 'America/Chicago', 'Africa/Lagos'];
    const rows = Array.from(
      { length: 12 },
      (_, i) =>
        `z${i},Zone ${i},,z${i}@example.org,en,${zones[i % 3]},chatgpt,email,2030-01-10T11:00:00Z,form,`,
    );
    const summary = await importer.importFile({
      file: csv(...rows),
      now: at('2030-01-10T12:00:00Z'),
      batchSize: 2,
    });
    expect(summary).toMatchObject({ inserted: 12, bad: 0 });
    expect(summary.planned.subscribers).toBe(12);
    const slots = (await slotsOf(t.db, 'side-by-side')).filter((s) => zones.includes(s.zone ?? ''));
    const zoneSlots = slots.filter((s) => s.subscriber === null).map((s) => `${s.step} ${s.zone}`);
    expect(new Set(zoneSlots).size).toBe(zoneSlots.length);
    expect(zoneSlots.sort()).toEqual(zones.map((z) => `d1 ${z}`).sort());
    expect(summary.planned.slots).toBe(slots.length);
  });
});
