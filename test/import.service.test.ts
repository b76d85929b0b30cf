// subscribers import on a real PostgreSQL: upsert by id, idempotent (no new consent events the
// second time), bad rows with their line numbers, --strict and --dry-run write nothing,
// tombstones, opt-outs that outrank older evidence, and planning into running campaigns.
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCampaignService } from '../src/campaigns/campaign.service.ts';
import { createImportService, ERASED_RULE, type ImportService } from '../src/subscribers/import.service.ts';
import { tombstoneHash } from '../src/subscribers/subscriber.repository.ts';
import { at, campaignFile, seedSubscriber, slotsOf } from './support/campaign.ts';
import { createTestDatabase, type TestDatabase } from './support/db.ts';

const FIXTURES = join(import.meta.dirname, 'fixtures', 'import');
const GOOD = join(FIXTURES, 'good.csv');
const BAD = join(FIXTURES, 'bad.csv');
const HEADER = 'id,name,phone,email,locale,timezone,assistant,channels,consent_at,consent_source,tags';
const now = at('2026-06-01T00:00:00Z');

let t: TestDatabase;
let importer: ImportService;
const csv = (...rows: string[]) => Readable.from([`${HEADER}\n${rows.join('\n')}\n`]);
const count = async (table: string, where = 'true') =>
  (await t.db.one<{ n: number }>(`SELECT count(*) AS n FROM ${table} WHERE ${where}`))!.n;
const channelsOf = (id: string) =>
  t.db.query('SELECT channel, state FROM subscriber_channels WHERE subscriber_id = $1 ORDER BY channel', [
    id,
  ]);

beforeAll(async () => {
  t = await createTestDatabase();
  importer = createImportService({ db: t.db, secretKey: t.config.secretKey });
});
afterAll(() => t.drop());

describe('import a good file', () => {
  it('inserts every row, activates the listed channels and records the consent evidence', async () => {
    const summary = await importer.importFile({ file: GOOD, now });
    expect(summary).toEqual({
      file: GOOD,
      dryRun: false,
      strict: false,
      committed: true,
      rows: 3,
      inserted: 3,
      updated: 0,
      unchanged: 0,
      bad: 0,
      consentEvents: 4,
      optOutsKept: 0,
      planned: { subscribers: 0, slots: 0 },
      badRows: [],
      notes: [],
    });
    expect(
      await t.db.one(
        'SELECT name, phone, email, locale, timezone, attributes, tags FROM subscribers WHERE id = $1',
        ['s3'],
      ),
    ).toEqual({
      name: 'Chandra, K.',
      phone: '+919812345678',
      email: null,
      locale: 'en',
      timezone: 'Asia/Kolkata',
      attributes: { assistant: 'both' },
      tags: ['beta', 'vip'],
    });
    expect(await channelsOf('s1')).toEqual([
      { channel: 'email', state: 'active' },
      { channel: 'whatsapp', state: 'active' },
    ]);
    const events = await t.db.query(
      `SELECT channel, kind, source, occurred_at FROM consent_events WHERE subscriber_id = 's2'`,
    );
    expect(events).toEqual([
      {
        channel: 'email',
        kind: 'import',
        source: 'event signup',
        occurred_at: new Date('2025-11-03T14:00:00Z'),
      },
    ]);
  });

  it('changes nothing the second time: all unchanged, no new consent event', async () => {
    const touched = await t.db.query('SELECT id, updated_at FROM subscribers ORDER BY id');
    const summary = await importer.importFile({ file: GOOD, now: now + 60_000 });
    expect(summary).toMatchObject({
      rows: 3,
      inserted: 0,
      updated: 0,
      unchanged: 3,
      bad: 0,
      consentEvents: 0,
    });
    expect(await count('consent_events')).toBe(4);
    expect(await t.db.query('SELECT id, updated_at FROM subscribers ORDER BY id')).toEqual(touched);
  });

  it('counts a changed profile as updated, and records new evidence only', async () => {
    const summary = await importer.importFile({
      file: csv(
        's2,Robert Smith,,bob@example.com,en,America/New_York,copilot,email,2025-11-03T09:00:00-05:00,event signup,',
        's3,"Chandra, K.",+919812345678,,en-IN,Asia/Kolkata,both,whatsapp,2026-02-01T10:00:00Z,phone call,vip;beta',
      ),
      now,
    });
    expect(summary).toMatchObject({ rows: 2, inserted: 0, updated: 2, unchanged: 0, consentEvents: 1 });
    expect((await t.db.one('SELECT name FROM subscribers WHERE id = $1', ['s2']))?.name).toBe('Robert Smith');
    expect(await count('consent_events', `subscriber_id = 's3' AND source = 'phone call'`)).toBe(1);
  });

  it('reads semicolons, CRLF, a BOM and quoted fields', async () => {
    const summary = await importer.importFile({ file: join(FIXTURES, 'semicolon-crlf-bom.csv'), now });
    expect(summary).toMatchObject({ rows: 2, inserted: 2, bad: 0 });
    expect(await t.db.one('SELECT name, locale FROM subscribers WHERE id = $1', ['m1'])).toEqual({
      name: 'Jean; dit "Jeannot"',
      locale: 'fr',
    });
  });
});

describe('bad rows', () => {
  it('reports each bad row with its line number and imports the others', async () => {
    const summary = await importer.importFile({ file: BAD, now });
    expect(summary).toMatchObject({ rows: 5, inserted: 2, bad: 3, committed: true });
    expect(summary.badRows.map((r) => [r.line, r.problems.map((p) => p.path)])).toEqual([
      [3, ['phone']],
      [4, ['timezone']],
      [5, ['consent_at', 'consent_source']],
    ]);
    expect(await count('subscribers', `id IN ('b1', 'b5')`)).toBe(2);
    expect(await count('subscribers', `id IN ('b2', 'b3', 'b4')`)).toBe(0);
  });

  it('refuses a row whose phone or email belongs to another id', async () => {
    const summary = await importer.importFile({
      file: csv(
        'x1,Someone Else,+33612345678,x1@example.org,fr,Europe/Paris,chatgpt,whatsapp,2025-11-02T14:30:00Z,form,',
        'x2,Fine,,x2@example.org,fr,Europe/Paris,chatgpt,email,2025-11-02T14:30:00Z,form,',
      ),
      now,
    });
    expect(summary).toMatchObject({ inserted: 1, bad: 1 });
    expect(summary.badRows).toEqual([
      { line: 2, problems: [{ path: 'phone', rule: 'already belongs to another subscriber (id s1)' }] },
    ]);
  });

  it('refuses an erased subscriber: only the person can opt in again', async () => {
    const secret = t.config.secretKey!;
    await t.db.exec(`INSERT INTO tombstones (hash, kind) VALUES ($1, 'phone'), ($2, 'email')`, [
      tombstoneHash(secret, 'phone', '+33699999999'),
      tombstoneHash(secret, 'email', 'gone@example.org'),
    ]);
    const summary = await importer.importFile({
      file: csv(
        'e1,Erased,+33699999999,,fr,Europe/Paris,chatgpt,whatsapp,2025-11-02T14:30:00Z,form,',
        'e2,Erased Too,,GONE@example.org,fr,Europe/Paris,chatgpt,email,2025-11-02T14:30:00Z,form,',
      ),
      now,
    });
    expect(summary).toMatchObject({ inserted: 0, bad: 2 });
    expect(summary.badRows).toEqual([
      { line: 2, problems: [{ path: 'phone', rule: ERASED_RULE }] },
      { line: 3, problems: [{ path: 'email', rule: ERASED_RULE }] },
    ]);
    expect(await count('subscribers', `id LIKE 'e%'`)).toBe(0);
  });
});

describe('--strict and --dry-run', () => {
  const fresh = () =>
    csv(
      'n1,New One,,n1@example.org,fr,Europe/Paris,chatgpt,email,2025-11-02T14:30:00Z,form,',
      'n2,New Two,+33633333333,,fr,Europe/Paris,chatgpt,whatsapp,2025-11-02T14:30:00Z,form,',
      'n3,Bad,,not-an-email,fr,Europe/Paris,chatgpt,email,2025-11-02T14:30:00Z,form,',
    );

  it('--strict imports nothing when any row is bad, and says which', async () => {
    const events = await count('consent_events');
    const summary = await importer.importFile({ file: fresh(), now, strict: true });
    expect(summary).toMatchObject({ strict: true, committed: false, rows: 3, inserted: 2, bad: 1 });
    expect(summary.badRows[0]).toMatchObject({ line: 4, problems: [{ path: 'email' }] });
    expect(await count('subscribers', `id LIKE 'n%'`)).toBe(0);
    expect(await count('consent_events')).toBe(events);
  });

  it('--strict commits a file without bad rows', async () => {
    const summary = await importer.importFile({ file: GOOD, now, strict: true });
    // s2 gets its first name back; s3's older evidence is on record already.
    expect(summary).toMatchObject({ committed: true, bad: 0, unchanged: 2, updated: 1, consentEvents: 0 });
  });

  it('--dry-run counts what would happen and writes nothing', async () => {
    const before = await Promise.all(
      ['subscribers', 'subscriber_channels', 'consent_events'].map((x) => count(x)),
    );
    const summary = await importer.importFile({ file: fresh(), now, dryRun: true });
    expect(summary).toMatchObject({ dryRun: true, committed: false, inserted: 2, bad: 1, consentEvents: 2 });
    expect(
      await Promise.all(['subscribers', 'subscriber_channels', 'consent_events'].map((x) => count(x))),
    ).toEqual(before);
  });
});

describe('consent', () => {
  it('keeps an opt-out made after the evidence, and honours evidence given after it', async () => {
    await t.db.exec(
      `UPDATE subscriber_channels SET state = 'unsubscribed' WHERE subscriber_id = 's1' AND channel = 'whatsapp'`,
    );
    await t.db.exec(
      `INSERT INTO consent_events (subscriber_id, channel, kind, source, occurred_at) VALUES ('s1', 'whatsapp', 'opt_out', 'link', '2025-12-01T00:00:00Z')`,
    );
    const again = await importer.importFile({ file: GOOD, now });
    expect(again).toMatchObject({ optOutsKept: 1, consentEvents: 0, unchanged: 3 });
    expect(await channelsOf('s1')).toContainEqual({ channel: 'whatsapp', state: 'unsubscribed' });

    const newer = await importer.importFile({
      file: csv(
        's1,Amélie Durand,+33612345678,amelie@example.org,fr,Europe/Paris,chatgpt,whatsapp;email,2026-01-10T10:00:00Z,phone call,beta',
      ),
      now,
    });
    expect(newer).toMatchObject({ updated: 1, optOutsKept: 0, consentEvents: 2 });
    expect(await channelsOf('s1')).toContainEqual({ channel: 'whatsapp', state: 'active' });
  });

  it('ends the consent of an unlisted channel whose address changed', async () => {
    const summary = await importer.importFile({
      file: csv(
        's1,Amélie Durand,+33612345678,amelie.new@example.org,fr,Europe/Paris,chatgpt,whatsapp,2026-01-10T10:00:00Z,phone call,beta',
      ),
      now,
    });
    expect(summary).toMatchObject({ updated: 1, consentEvents: 1 });
    expect(await channelsOf('s1')).toEqual([
      { channel: 'email', state: 'unsubscribed' },
      { channel: 'whatsapp', state: 'active' },
    ]);
    expect(
      await t.db.one(`SELECT kind, source, evidence->>'reason' AS reason FROM consent_events
                       WHERE subscriber_id = 's1' AND channel = 'email' ORDER BY id DESC LIMIT 1`),
    ).toEqual({ kind: 'opt_out', source: 'import', reason: 'address-changed' });
  });
});

describe('bounces and complaints', () => {
  const endEmail = async (state: 'bounced' | 'complained', kind: 'bounce' | 'complaint') => {
    await t.db.exec(
      `UPDATE subscriber_channels SET state = $1 WHERE subscriber_id = 's2' AND channel = 'email'`,
      [state],
    );
    await t.db.exec(
      `INSERT INTO consent_events (subscriber_id, channel, kind, source, occurred_at)
       VALUES ('s2', 'email', $1, 'dsn', '2025-12-01T00:00:00Z')`,
      [kind],
    );
  };
  const bob = (email: string, consentAt: string) =>
    csv(`s2,Bob Smith,,${email},en,America/New_York,copilot,email,${consentAt},event signup,`);

  it('keeps a complaint or a bounce against the same file imported again', async () => {
    for (const [state, kind] of [
      ['complained', 'complaint'],
      ['bounced', 'bounce'],
    ] as const) {
      await endEmail(state, kind);
      const again = await importer.importFile({ file: GOOD, now });
      expect(again, state).toMatchObject({ consentEvents: 0 });
      expect(await channelsOf('s2')).toEqual([{ channel: 'email', state }]);
    }
  });

  it('lets a new address end a bounce at once, and newer evidence end a complaint', async () => {
    await endEmail('bounced', 'bounce');
    const moved = await importer.importFile({
      file: bob('bob.new@example.com', '2025-11-03T14:00:00Z'),
      now,
    });
    expect(moved).toMatchObject({ updated: 1, optOutsKept: 0 });
    expect(await channelsOf('s2')).toEqual([{ channel: 'email', state: 'active' }]);

    await endEmail('complained', 'complaint');
    const old = await importer.importFile({
      file: bob('bob.other@example.com', '2025-11-03T14:00:00Z'),
      now,
    });
    expect(old).toMatchObject({ optOutsKept: 1 });
    expect(await channelsOf('s2')).toEqual([{ channel: 'email', state: 'complained' }]);
    await importer.importFile({ file: bob('bob.other@example.com', '2026-02-01T09:00:00Z'), now });
    expect(await channelsOf('s2')).toEqual([{ channel: 'email', state: 'active' }]);
  });
});

describe('planning into running campaigns', () => {
  it('plans new subscribers as joining at the import, and nothing for unchanged rows', async () => {
    const campaigns = createCampaignService({ db: t.db });
    await seedSubscriber(t.db, { id: 'p1', zone: 'Europe/Paris', channels: ['email'] });
    await campaigns.create(campaignFile('running'), at('2030-01-01T00:00:00Z'));
    await campaigns.start('running', at('2030-01-01T00:00:00Z'));
    const importAt = at('2030-01-10T12:00:00Z');
    const summary = await importer.importFile({
      file: csv('late,Late Joiner,,late@example.org,en,Asia/Tokyo,chatgpt,email,2030-01-10T11:00:00Z,form,'),
      now: importAt,
    });
    // Tokyo: d1 (14 Jan 01:00Z) becomes a zone slot, d7 (missed) a personal catch-up at 09:00 Tokyo.
    expect(summary.planned).toEqual({ subscribers: 1, slots: 2 });
    expect((await slotsOf(t.db, 'running')).filter((s) => s.zone === 'Asia/Tokyo')).toEqual([
      {
        step: 'd7',
        zone: 'Asia/Tokyo',
        channel: 'email',
        sendAt: '2030-01-11T00:00:00Z',
        kind: 'catch-up',
        subscriber: 'late',
        state: 'pending',
      },
      {
        step: 'd1',
        zone: 'Asia/Tokyo',
        channel: 'email',
        sendAt: '2030-01-14T01:00:00Z',
        kind: 'scheduled',
        subscriber: null,
        state: 'pending',
      },
    ]);
    const again = await importer.importFile({ file: GOOD, now: importAt });
    expect(again.planned).toEqual({ subscribers: 0, slots: 0 });
  });

  it('counts only the subscribers a campaign planned: rows outside every audience are not', async () => {
    const campaigns = createCampaignService({ db: t.db });
    const now = at('2030-01-10T12:00:00Z');
    await campaigns.cancel('running', now);
    await campaigns.create(campaignFile('tagged', { tags: ['vip'] }), now);
    await campaigns.start('tagged', now);
    const summary = await importer.importFile({
      file: csv(
        'plain1,Plain One,,plain1@example.org,en,Europe/Paris,chatgpt,email,2030-01-10T11:00:00Z,form,',
        'plain2,Plain Two,,plain2@example.org,en,Europe/Paris,chatgpt,email,2030-01-10T11:00:00Z,form,',
        'vip1,Vip One,,vip1@example.org,en,Europe/Paris,chatgpt,email,2030-01-10T11:00:00Z,form,vip',
      ),
      now,
    });
    expect(summary).toMatchObject({ inserted: 3, planned: { subscribers: 1 } });
    const untagged = await importer.importFile({
      file: csv(
        'plain3,Plain Three,,plain3@example.org,en,Europe/Paris,chatgpt,email,2030-01-10T11:00:00Z,form,',
      ),
      now,
    });
    expect(untagged).toMatchObject({ inserted: 1, planned: { subscribers: 0, slots: 0 } });
  });
});

describe('planner statistics after a big import', () => {
  const analyzed = async () =>
    (await t.db.one<{ n: number }>(
      `SELECT analyze_count::int AS n FROM pg_stat_user_tables WHERE relname = 'subscribers'`,
    ))!.n;

  it('refreshes them when an import writes at least the threshold of rows, and not otherwise', async () => {
    const rows = (tag: string) =>
      csv(
        `an-1,A One,,an1@example.org,en,Europe/Paris,chatgpt,email,2026-05-01T00:00:00Z,form,${tag}`,
        `an-2,A Two,,an2@example.org,en,Europe/Paris,chatgpt,email,2026-05-01T00:00:00Z,form,${tag}`,
      );
    const before = await analyzed();
    expect((await importer.importFile({ file: rows(''), now, analyzeAfterRows: 3 })).inserted).toBe(2);
    expect(await analyzed()).toBe(before); // 2 rows written, under 3
    expect((await importer.importFile({ file: rows('x'), now, analyzeAfterRows: 2 })).updated).toBe(2);
    expect(await analyzed()).toBe(before + 1);
    expect((await importer.importFile({ file: rows('x'), now, analyzeAfterRows: 2 })).unchanged).toBe(2);
    expect(await analyzed()).toBe(before + 1); // nothing written
  });
});
