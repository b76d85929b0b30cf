// The audience rule and its SQL twin are one rule: for random subscribers (tags, attributes) and
// random audiences (tags, where), the subscribers `audienceSql` selects in PostgreSQL are exactly
// those `inAudience` accepts. Then the rule at work: `campaign start` plans only the zones of
// subscribers in the audience.
import { Readable } from 'node:stream';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AudienceMember, audienceParams, audienceSql, inAudience } from '../src/campaigns/audience.ts';
import type { CampaignAudience } from '../src/campaigns/campaign.schema.ts';
import { createCampaignService } from '../src/campaigns/campaign.service.ts';
import { createImportService } from '../src/subscribers/import.service.ts';
import { at, campaignFile, seedSubscriber, slotsOf } from './support/campaign.ts';
import { createTestDatabase, type TestDatabase } from './support/db.ts';

let t: TestDatabase;
beforeAll(async () => {
  t = await createTestDatabase();
});
afterAll(() => t?.drop());

// Few names and values, so that matches and misses both happen; values with quotes, backslashes
// and accents, which the jsonpath must carry as written.
const tagArb = fc.constantFrom('beta', 'press', 'vip');
const nameArb = fc.constantFrom('plan', 'assistant', 'city');
const valueArb = fc.constantFrom(
  'pro',
  'team',
  'copilot',
  'both',
  'Lyon',
  'Saint-Étienne',
  'say "hi"',
  'a\\b',
  '',
);
const memberArb: fc.Arbitrary<AudienceMember> = fc.record({
  tags: fc.uniqueArray(tagArb, { maxLength: 2 }),
  attributes: fc.dictionary(
    nameArb,
    valueArb.filter((v) => v !== ''),
    { maxKeys: 3 },
  ),
});
const audienceArb: fc.Arbitrary<CampaignAudience> = fc.record({
  tags: fc.uniqueArray(tagArb, { maxLength: 2 }),
  where: fc.dictionary(nameArb, fc.uniqueArray(valueArb, { minLength: 1, maxLength: 3 }), { maxKeys: 2 }),
});

describe('the audience rule', () => {
  it('selects in SQL exactly the subscribers inAudience accepts', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(memberArb, { minLength: 1, maxLength: 12 }),
        audienceArb,
        async (members, audience) => {
          await t.db.tx(async (sql) => {
            await sql.exec('DELETE FROM subscribers');
            await sql.exec(
              `INSERT INTO subscribers (id, email, timezone, tags, attributes)
             SELECT 'm' || i, 'm' || i || '@example.org', 'UTC', ARRAY(SELECT jsonb_array_elements_text(m->'tags')), m->'attributes'
               FROM jsonb_array_elements($1::jsonb) WITH ORDINALITY AS x(m, i)`,
              [JSON.stringify(members)],
            );
            const selected = await sql.query<{ id: string }>(
              `SELECT s.id FROM subscribers s WHERE ${audienceSql('$1', '$2')} ORDER BY s.id`,
              audienceParams(audience),
            );
            const expected = members
              .map((m, i) => ({ id: `m${i + 1}`, m }))
              .filter(({ m }) => inAudience({ audience }, m))
              .map(({ id }) => id)
              .sort();
            expect(selected.map((r) => r.id)).toEqual(expected);
          });
        },
      ),
      { numRuns: 150 },
    );
  });

  it('needs every listed attribute to match, and tags too when there are some', () => {
    const audience = { tags: ['beta'], where: { plan: ['pro', 'team'], assistant: ['copilot'] } };
    const member = (tags: string[], attributes: Record<string, string>) =>
      inAudience({ audience }, { tags, attributes });
    expect(member(['beta'], { plan: 'team', assistant: 'copilot' })).toBe(true);
    expect(member(['beta'], { plan: 'team' })).toBe(false);
    expect(member(['beta'], { plan: 'free', assistant: 'copilot' })).toBe(false);
    expect(member([], { plan: 'pro', assistant: 'copilot' })).toBe(false);
    expect(inAudience({ audience: { tags: [] } }, { tags: [], attributes: {} })).toBe(true);
  });

  it('campaign start plans only the zones of subscribers in the audience', async () => {
    await t.db.exec('DELETE FROM subscribers');
    await seedSubscriber(t.db, { id: 'pro-tokyo', zone: 'Asia/Tokyo', channels: ['email'] });
    await seedSubscriber(t.db, { id: 'free-paris', zone: 'Europe/Paris', channels: ['email'] });
    await t.db.exec(
      `UPDATE subscribers SET attributes = attributes || '{"plan":"pro"}' WHERE id = 'pro-tokyo'`,
    );
    const campaigns = createCampaignService({ db: t.db });
    const now = at('2030-01-01T00:00:00Z');
    await campaigns.create(campaignFile('pro-only', { where: { plan: ['pro'] } }), now);
    const started = await campaigns.start('pro-only', now);
    expect(started).toMatchObject({ zones: 1, reach: 1 });
    expect(new Set((await slotsOf(t.db, 'pro-only')).map((s) => s.zone))).toEqual(new Set(['Asia/Tokyo']));

    // An import that gives the Paris subscriber the attribute plans her zone into the campaign;
    // the same file again changes nothing.
    const importer = createImportService({ db: t.db, secretKey: undefined });
    const csv = [
      'id,name,phone,email,locale,timezone,channels,consent_at,consent_source,attr.plan',
      'free-paris,Test,,free-paris@example.org,en,Europe/Paris,email,2029-12-01T00:00:00Z,shop,pro',
      '',
    ].join('\n');
    const later = now + 3_600_000;
    const first = await importer.importFile({ file: Readable.from([csv]), now: later });
    expect(first).toMatchObject({ updated: 1, planned: { subscribers: 1 } });
    expect(new Set((await slotsOf(t.db, 'pro-only')).map((s) => s.zone))).toEqual(
      new Set(['Asia/Tokyo', 'Europe/Paris']),
    );
    const again = await importer.importFile({ file: Readable.from([csv]), now: later });
    expect(again).toMatchObject({ unchanged: 1, planned: { subscribers: 0 } });
  });
});
