// Public holidays per country at fan-out (docs/audiences.md, "Public holidays"): two subscribers
// of one zone, one French and one British, get different instants around 14 July; a campaign
// with holidays has a slot per (zone, country) and each slot's fan-out takes only its country's
// subscribers (from the attribute, else the phone's region). A campaign without holidays keeps one
// slot per zone. And the rule that picks the country is the same in SQL as in memory.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createCampaignService, planSubscriber } from '../src/campaigns/campaign.service.ts';
import { holidayCountry, holidayCountrySql } from '../src/campaigns/holiday-country.ts';
import { planPreview } from '../src/campaigns/plan-preview.ts';
import { claimDueSlots, fanOut } from '../src/delivery/fanout.service.ts';
import { createLogger } from '../src/shared/logger.ts';
import type { Db } from '../src/store/pool.ts';
import { at, campaignFile } from './support/campaign.ts';
import { useDeliveryServices } from './support/delivery.ts';

const t = useDeliveryServices();

// Deadline Wednesday 15 July 2026 at noon in Paris; d1 falls on Tuesday 14 July at 10:00.
const DEADLINE = '2026-07-15T12:00:00+02:00';
const D1 = '{ id: d1, before: P1D, channels: [email], template: last-day }';
const NOW = at('2026-07-01T00:00:00Z');

async function seed(db: Db, id: string, attributes: Record<string, string>, phoneRegion: string | null) {
  await db.exec(
    `INSERT INTO subscribers (id, name, email, locale, timezone, attributes, phone_region)
     VALUES ($1, 'Test', $1 || '@example.org', 'en', 'Europe/Paris', $2, $3)`,
    [id, JSON.stringify(attributes), phoneRegion],
  );
  await db.exec(
    `INSERT INTO subscriber_channels (subscriber_id, channel, state, consent_at)
     VALUES ($1, 'email', 'active', '2026-06-01T00:00:00Z')`,
    [id],
  );
}

const slotsOf = (db: Db, campaignId: string) =>
  db.query<{ country: string; send_at: Date; audience: number }>(
    `SELECT country, send_at, audience FROM slots WHERE campaign_id = $1 ORDER BY send_at, country`,
    [campaignId],
  );

describe('fan-out with public holidays', () => {
  it('sends to a French and a British subscriber of one zone at different instants around 14 July', async () => {
    const db = t.services.database.db;
    await seed(db, 'fr-attr', { country: 'fr' }, null);
    await seed(db, 'fr-phone', {}, 'FR');
    await seed(db, 'gb-attr', { country: 'GB' }, 'FR'); // the attribute comes first
    await seed(db, 'nowhere', {}, '');
    const campaigns = createCampaignService({ db });
    const holidays = campaignFile('bastille', {
      deadline: DEADLINE,
      steps: [D1],
      holidays: '{ country: [attr.country, phone] }',
    });
    await campaigns.create(holidays, NOW);
    await campaigns.start('bastille', NOW);
    const plain = campaignFile('plain', { deadline: DEADLINE, steps: [D1] });
    await campaigns.create(plain, NOW);
    await campaigns.start('plain', NOW);

    // France: back to Monday 13 July at the window's end (20:00 in Paris); elsewhere 14 July 10:00.
    expect(
      (await slotsOf(db, 'bastille')).map((s) => [s.country, s.send_at.toISOString(), s.audience]),
    ).toEqual([
      ['FR', '2026-07-13T18:00:00.000Z', 2],
      ['', '2026-07-14T08:00:00.000Z', 1],
      ['GB', '2026-07-14T08:00:00.000Z', 1],
    ]);
    // Without the key: one slot for the zone, as before.
    expect((await slotsOf(db, 'plain')).map((s) => [s.country, s.send_at.toISOString(), s.audience])).toEqual(
      [['', '2026-07-14T08:00:00.000Z', 4]],
    );

    // The plan preview of the stored subscribers says whose send a holiday moved.
    const preview: string[] = [];
    for await (const chunk of await planPreview(db, 'bastille', NOW))
      preview.push(...chunk.trim().split('\n'));
    expect(
      preview.map((line) => JSON.parse(line)).map((l) => [l.subscriber, l.local, l.country, l.holiday]),
    ).toEqual([
      ['fr-attr', '2026-07-13T20:00:00+02:00', 'FR', '2026-07-14'],
      ['fr-phone', '2026-07-13T20:00:00+02:00', 'FR', '2026-07-14'],
      ['gb-attr', '2026-07-14T10:00:00+02:00', 'GB', undefined],
      ['nowhere', '2026-07-14T10:00:00+02:00', '', undefined],
    ]);

    const deps = { db, queues: t.queues, logger: createLogger({ logLevel: 'silent' }), pageSize: 1 };
    const fanOutDue = async (iso: string) => {
      for (const slotId of await claimDueSlots({ db }, at(iso))) await fanOut(deps, slotId, at(iso));
    };
    const reached = (campaignId: string) =>
      db
        .query<{ subscriber_id: string }>(
          `SELECT subscriber_id FROM deliveries WHERE campaign_id = $1 ORDER BY 1`,
          [campaignId],
        )
        .then((rows) => rows.map((r) => r.subscriber_id));

    // People who join later land in their own country's slot: an Italian by the phone makes one
    // (Italy works on 14 July), a Frenchwoman by the attribute finds hers.
    const later = at('2026-07-02T00:00:00Z');
    await seed(db, 'it-phone', {}, 'IT');
    await seed(db, 'fr-late', { country: 'FR' }, 'IT');
    await planSubscriber(db, 'it-phone', later);
    await planSubscriber(db, 'fr-late', later);
    expect(
      (await slotsOf(db, 'bastille')).map((s) => [s.country, s.send_at.toISOString(), s.audience]),
    ).toEqual([
      ['FR', '2026-07-13T18:00:00.000Z', 2],
      ['', '2026-07-14T08:00:00.000Z', 1],
      ['GB', '2026-07-14T08:00:00.000Z', 1],
      ['IT', '2026-07-14T08:00:00.000Z', 1],
    ]);

    await fanOutDue('2026-07-13T18:00:00Z');
    expect(await reached('bastille')).toEqual(['fr-attr', 'fr-late', 'fr-phone']);
    expect(await reached('plain')).toEqual([]);
    await fanOutDue('2026-07-14T08:00:00Z');
    const everyone = ['fr-attr', 'fr-late', 'fr-phone', 'gb-attr', 'it-phone', 'nowhere'];
    expect(await reached('bastille')).toEqual(everyone);
    expect(await reached('plain')).toEqual(everyone);
  });

  it('picks the same country in SQL as in memory', async () => {
    const db = t.services.database.db;
    const sourceArb = fc.constantFrom('attr.country', 'attr.pays', 'phone', 'FR', 'NZ');
    const valueArb = fc.constantFrom('fr', ' GB ', 'Gb', 'ZZ', 'France', 'ß', '', 'f', ' n z');
    const memberArb = fc.record({
      attributes: fc.dictionary(fc.constantFrom('country', 'pays'), valueArb, { maxKeys: 2 }),
      phoneRegion: fc.constantFrom(null, '', 'FR', 'CA'),
    });
    await fc.assert(
      fc.asyncProperty(
        fc.uniqueArray(sourceArb, { minLength: 1, maxLength: 3 }),
        fc.array(memberArb, { minLength: 1, maxLength: 8 }),
        async (country, members) => {
          const rule = { country, types: ['public' as const] };
          const rows = await db.query<{ country: string }>(
            `SELECT ${holidayCountrySql(rule)} AS country
               FROM jsonb_array_elements($1::jsonb) WITH ORDINALITY AS x(m, i),
                    LATERAL (SELECT m->'attributes' AS attributes, m->>'phoneRegion' AS phone_region) s
              ORDER BY i`,
            [JSON.stringify(members)],
          );
          expect(rows.map((r) => r.country)).toEqual(members.map((m) => holidayCountry(rule, m)));
        },
      ),
      { numRuns: 100 },
    );
  });
});
