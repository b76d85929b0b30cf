// `subscribers show | export | forget` run as an operator runs them: the real executable in a
// child process, on a real PostgreSQL. Erasure is checked by scanning every text and JSON
// column of every table for the person's phone, email, name and id.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCampaignService } from '../src/campaigns/campaign.service.ts';
import type { Sql } from '../src/store/pool.ts';
import { ERASED_RULE } from '../src/subscribers/import.service.ts';
import { campaignFile, STEPS } from './support/campaign.ts';
import { runCli } from './support/cli.ts';
import { testConfig } from './support/config.ts';
import { createTestDatabase, type TestDatabase } from './support/db.ts';
import { testServices } from './support/services.ts';

const SECRET_KEY = 'cli-subscribers-test-secret-key-0123456789abcdef';
const dir = mkdtempSync(join(tmpdir(), 'lastcall-cli-subscribers-'));

// The person to forget, with values distinctive enough to scan for.
const PERSON = {
  id: 'forget-me-7',
  name: 'Zéphyrine Quaglia',
  phone: '+33698765432',
  email: 'zephyrine.quaglia@example.net',
};
const NEEDLES = [PERSON.id, PERSON.name, 'Quaglia', PERSON.phone, PERSON.phone.slice(1), PERSON.email];

const CSV = [
  'id,name,phone,email,locale,timezone,assistant,channels,consent_at,consent_source,tags',
  `${PERSON.id},${PERSON.name},${PERSON.phone},${PERSON.email},fr,Europe/Paris,chatgpt,whatsapp;email,2025-11-02T14:30:00Z,newsletter form,beta`,
  'keep-1,"Doe, ""JJ""",+14155550123,,en-US,America/Los_Angeles,copilot,whatsapp,2025-11-03T09:00:00.250-08:00,"shop counter, Paris",',
  // A consent source that a spreadsheet would run as a formula: the export neutralises it.
  'keep-2,Ōno Akira,,akira@example.jp,en,Asia/Tokyo,both,email,2025-11-04T10:00:00+09:00,"=HYPERLINK(""http://x.example"")",vip;beta',
  '',
].join('\n');

let t: TestDatabase;
let fresh: TestDatabase;
let env: Record<string, string>;
const csvFile = join(dir, 'subscribers.csv');
const cli = (args: string[], database = t) => runCli(args, { ...env, DATABASE_URL: database.url });

beforeAll(async () => {
  [t, fresh] = await Promise.all([createTestDatabase(), createTestDatabase()]);
  env = { LASTCALL_ENV: 'development', LOG_LEVEL: 'silent', SECRET_KEY };
  writeFileSync(csvFile, CSV);
  // A running campaign, so that the import plans the newcomers: zone slots for d7 and, d30
  // being already missed, a personal catch-up slot for each of them.
  const now = Date.now();
  const deadline = new Date(Math.ceil((now + 10 * 86_400_000) / 3_600_000) * 3_600_000).toISOString();
  const campaigns = createCampaignService({ db: t.db });
  const file = campaignFile('erasure', {
    deadline,
    steps: ['{ id: d30, before: P30D, channels: [whatsapp, email], template: first-notice }', STEPS.d7],
  });
  await campaigns.create(file, now);
  await campaigns.start('erasure', now);
});
afterAll(async () => {
  await Promise.all([t?.drop(), fresh?.drop()]);
});

/** Every "table.column" of a text, array or JSON type holding one of the needles. */
async function personalData(sql: Sql, needles: readonly string[]): Promise<string[]> {
  const columns = await sql.query<{ table_name: string; column_name: string }>(
    `SELECT c.table_name, c.column_name FROM information_schema.columns c
       JOIN information_schema.tables t ON t.table_schema = c.table_schema AND t.table_name = c.table_name
      WHERE c.table_schema = 'public' AND t.table_type = 'BASE TABLE'
        AND (c.data_type IN ('text', 'character varying', 'character', 'json', 'jsonb')
             OR c.udt_name IN ('_text', '_varchar', '_jsonb'))`,
  );
  const hits: string[] = [];
  for (const { table_name: table, column_name: column } of columns) {
    for (const needle of needles) {
      const row = await sql.one<{ n: number }>(
        `SELECT count(*)::int AS n FROM "${table}" WHERE position(lower($1) IN lower("${column}"::text)) > 0`,
        [needle],
      );
      if ((row?.n ?? 0) > 0) hits.push(`${table}.${column}: ${needle}`);
    }
  }
  return hits;
}

// Each test spawns the CLI a few times (a second or more each on a busy machine).
describe('lastcall subscribers show, export and forget', { timeout: 120_000 }, () => {
  it('imports, then shows one subscriber by id, phone or email', async () => {
    const imported = await cli(['subscribers', 'import', '--file', csvFile, '--json']);
    expect(imported.code, imported.stderr).toBe(0);
    expect(JSON.parse(imported.stdout)).toMatchObject({ inserted: 3, bad: 0 });
    // What the workers would have left behind for the person: a sent WhatsApp message whose id
    // holds the number (a real wamid encodes it), a refused email quoting the address, a fan-out
    // cursor on their id.
    const sent = await t.db.one<{ id: number }>(
      `INSERT INTO deliveries (campaign_id, step_id, subscriber_id, channel, kind, status, attempts, provider_message_id, sent_at)
       VALUES ('erasure', 'd30', $1, 'whatsapp', 'catch-up', 'sent', 1, $2, now()) RETURNING id`,
      [PERSON.id, `wamid.${PERSON.phone.slice(1)}.x`],
    );
    const refused = await t.db.one<{ id: number }>(
      `INSERT INTO deliveries (campaign_id, step_id, subscriber_id, channel, kind, status, attempts, error_code, error_detail)
       VALUES ('erasure', 'd30', $1, 'email', 'catch-up', 'failed', 1, '550', $2) RETURNING id`,
      [PERSON.id, `550 5.1.1 <${PERSON.email}>: Recipient address rejected`],
    );
    await t.db.exec(
      `INSERT INTO deliveries (campaign_id, step_id, subscriber_id, channel, kind, status)
       VALUES ('erasure', 'd7', $1, 'email', 'scheduled', 'queued')`,
      [PERSON.id],
    );
    await t.db.exec(
      `INSERT INTO delivery_attempts (delivery_id, attempt, outcome, error_code, detail, at)
       VALUES ($1, 1, 'sent', NULL, NULL, now()), ($2, 1, 'failed', '550', $3, now())`,
      [sent!.id, refused!.id, `550 5.1.1 <${PERSON.email}>: Recipient address rejected`],
    );
    expect(
      await t.db.exec(`UPDATE slots SET cursor = $1 WHERE subscriber_id IS NULL AND zone = 'Europe/Paris'`, [
        PERSON.id,
      ]),
    ).toBeGreaterThan(0);

    const [byId, byPhone, byEmail] = await Promise.all([
      cli(['subscribers', 'show', PERSON.id, '--json']),
      cli(['subscribers', 'show', '+33 6 98 76 54 32', '--json']),
      cli(['subscribers', 'show', 'Zephyrine.Quaglia@Example.net']),
    ]);
    expect(byId.code, byId.stderr).toBe(0);
    const profile = JSON.parse(byId.stdout);
    expect(profile).toMatchObject({
      id: PERSON.id,
      name: PERSON.name,
      phone: PERSON.phone,
      email: PERSON.email,
      locale: 'fr',
      timezone: 'Europe/Paris',
      attributes: { assistant: 'chatgpt' },
      tags: ['beta'],
      doneAt: null,
      deliveries: { total: 3, byStatus: { failed: 1, queued: 1, sent: 1 } },
    });
    expect(
      profile.channels.map((c: { channel: string; state: string }) => `${c.channel}:${c.state}`),
    ).toEqual(['email:active', 'whatsapp:active']);
    expect(profile.consentEvents).toHaveLength(2);
    expect(profile.consentEvents[0]).toMatchObject({
      kind: 'import',
      source: 'newsletter form',
      occurredAt: '2025-11-02T14:30:00.000Z',
    });
    expect(profile.catchUpSlots.map((s: { step: string }) => s.step)).toContain('d30');
    expect(JSON.parse(byPhone.stdout)).toEqual(profile);
    expect(byEmail.code).toBe(0);
    expect(byEmail.stdout).toMatch(/^subscriber forget-me-7\n/);
    expect(byEmail.stdout).toContain('consent events (2)');
    expect(byEmail.stdout).toContain('deliveries (3: failed 1, queued 1, sent 1)');
  });

  it('exports a CSV that imports back unchanged, formula cells neutralised, here and into an empty database', async () => {
    const out1 = join(dir, 'export-1.csv');
    const exported = await cli(['subscribers', 'export', '--file', out1, '--json']);
    expect(exported.code, exported.stderr).toBe(0);
    expect(JSON.parse(exported.stdout)).toEqual({ file: out1, exported: 3, leftOut: 0, done: 0 });
    expect(readFileSync(out1, 'utf8')).toBe(
      [
        // The imported file's bare assistant column comes back as the attribute it is.
        'id,name,phone,email,locale,timezone,channels,consent_at,consent_source,tags,attr.assistant',
        'forget-me-7,Zéphyrine Quaglia,+33698765432,zephyrine.quaglia@example.net,fr,Europe/Paris,whatsapp;email,2025-11-02T14:30:00.000Z,newsletter form,beta,chatgpt',
        'keep-1,"Doe, ""JJ""",+14155550123,,en,America/Los_Angeles,whatsapp,2025-11-03T17:00:00.250Z,"shop counter, Paris",,copilot',
        `keep-2,Ōno Akira,,akira@example.jp,en,Asia/Tokyo,email,2025-11-04T01:00:00.000Z,"'=HYPERLINK(""http://x.example"")",beta;vip,both`,
        '',
      ].join('\r\n'),
    );

    const again = await cli(['subscribers', 'import', '--file', out1, '--json']);
    expect(JSON.parse(again.stdout)).toMatchObject({
      rows: 3,
      inserted: 0,
      updated: 0,
      unchanged: 3,
      bad: 0,
      consentEvents: 0,
    });

    const intoFresh = await cli(['subscribers', 'import', '--file', out1, '--json'], fresh);
    expect(JSON.parse(intoFresh.stdout)).toMatchObject({ inserted: 3, bad: 0 });
    // To stdout this time; the summary goes to stderr.
    const second = await cli(['subscribers', 'export'], fresh);
    expect(second.code).toBe(0);
    expect(second.stdout).toBe(readFileSync(out1, 'utf8'));
    expect(second.stderr).toContain('exported 3 subscribers');
  });

  it('forgets a person: no personal data left anywhere, deliveries kept anonymous, re-import refused', async () => {
    expect(await personalData(t.db, NEEDLES)).toEqual(
      expect.arrayContaining([
        'subscribers.name: Zéphyrine Quaglia',
        'consent_events.evidence: zephyrine.quaglia@example.net',
        'deliveries.provider_message_id: 33698765432',
        'deliveries.error_detail: zephyrine.quaglia@example.net',
        'delivery_attempts.detail: zephyrine.quaglia@example.net',
        'slots.cursor: forget-me-7',
      ]),
    ); // the scan does see the person before erasure

    const forgot = await cli(['subscribers', 'forget', PERSON.email, '--json']);
    expect(forgot.code, forgot.stderr).toBe(0);
    expect(JSON.parse(forgot.stdout)).toEqual({
      subscriberId: PERSON.id,
      tombstones: { phone: 1, email: 1 },
      channels: 2,
      consentEvents: 2,
      deliveriesAnonymised: 3,
      deliveriesSkipped: 1,
      personalSlots: expect.any(Number),
      webhookPayloadsRedacted: 0,
    });
    expect(JSON.parse(forgot.stdout).personalSlots).toBeGreaterThan(0);

    expect(await personalData(t.db, NEEDLES)).toEqual([]);
    const kept = await t.db.query(
      `SELECT channel, status, skip_reason, error_code FROM deliveries WHERE subscriber_id IS NULL AND kind <> 'test' ORDER BY id`,
    );
    expect(kept).toEqual([
      { channel: 'whatsapp', status: 'sent', skip_reason: null, error_code: null },
      { channel: 'email', status: 'failed', skip_reason: null, error_code: '550' },
      { channel: 'email', status: 'skipped', skip_reason: 'erased', error_code: null },
    ]);
    expect(await t.db.query('SELECT kind FROM tombstones ORDER BY kind')).toEqual([
      { kind: 'email' },
      { kind: 'phone' },
    ]);
    // The cursor moved to the previous remaining id: the same subscribers are still ahead of it.
    const cursors = await t.db.query<{ cursor: string }>(
      `SELECT DISTINCT cursor FROM slots WHERE zone = 'Europe/Paris' AND subscriber_id IS NULL`,
    );
    expect(cursors).toEqual([{ cursor: '' }]);

    const reimport = await cli(['subscribers', 'import', '--file', csvFile, '--json']);
    expect(reimport.code).toBe(0);
    expect(JSON.parse(reimport.stdout)).toMatchObject({
      bad: 1,
      unchanged: 2,
      badRows: [{ line: 2, problems: [{ path: 'phone, email', rule: ERASED_RULE }] }],
    });
    const again = await cli(['subscribers', 'forget', PERSON.phone]);
    expect(again.code).toBe(2);
    expect(again.stderr).toContain('no subscriber with this phone number: it was already erased');
    expect(again.stderr).not.toContain(PERSON.phone);
  });

  it('lets the person sign up again by themselves on the web form', async () => {
    const { subscriptions } = testServices(testConfig({ SECRET_KEY }), t.db);
    const result = await subscriptions.signUp(
      {
        id: 'web-zephyrine',
        name: PERSON.name,
        phone: PERSON.phone,
        email: PERSON.email,
        locale: 'fr',
        timezone: 'Europe/Paris',
        attributes: { assistant: 'chatgpt' },
        channels: ['whatsapp'],
        consentAt: Date.now(),
        consentSource: 'web',
        tags: [],
      },
      { source: 'web', consentVersion: 'consent-v1', consentText: 'J’accepte.', pageLocale: 'fr' },
      Date.now(),
    );
    expect(result).toMatchObject({
      subscriberId: 'web-zephyrine',
      created: true,
      channels: { whatsapp: 'active' },
    });
    expect(await t.db.query('SELECT kind FROM tombstones')).toEqual([]);
  });

  it('refuses a KEY that is neither an id, a phone nor an email, and an unknown one, with exit 2', async () => {
    const [bad, unknown] = await Promise.all([
      cli(['subscribers', 'show', 'not a key!']),
      cli(['subscribers', 'forget', 'nobody@example.org']),
    ]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('KEY: must be a subscriber id, a phone number in E.164 form');
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('no subscriber with this email address');
  });
});
