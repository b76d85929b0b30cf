// Fan-out applies the audience: a zone slot reaches the subscribers of its zone whose attributes
// match `audience.where` (docs/audiences.md), not everyone in the zone. A subscriber whose
// attribute changes after the start is judged at fan-out time, as for tags.
import { describe, expect, it } from 'vitest';
import { claimDueSlots, fanOut } from '../src/delivery/fanout.service.ts';
import { createLogger } from '../src/shared/logger.ts';
import {
  makeSubscribers,
  seedSubscribers,
  startDueCampaign,
  useDeliveryServices,
} from './support/delivery.ts';

const MINUTE = 60_000;
const t = useDeliveryServices();

describe('fan-out with audience.where', () => {
  it('creates deliveries only for the zone subscribers whose attributes match', async () => {
    const db = t.services.database.db;
    const now = Date.now();
    // 12 in one zone; the assistants cycle chatgpt, copilot, both; 8 of them have email.
    const people = makeSubscribers(12, ['Europe/Paris'], 'w');
    await seedSubscribers(db, people, now - 60 * MINUTE);
    await startDueCampaign(
      db,
      'where',
      [{ id: 'm10', before: 'PT10M', channels: ['email'], template: 'first-notice' }],
      now,
      { where: { assistant: ['copilot', 'both'] } },
    );
    // After the start: one more copilot user loses their match, one chatgpt user gains it.
    await db.exec(`UPDATE subscribers SET attributes = '{"assistant":"chatgpt"}' WHERE id = 'w00001'`);
    await db.exec(`UPDATE subscribers SET attributes = '{"assistant":"both"}' WHERE id = 'w00003'`);
    const [slotId] = await claimDueSlots({ db }, now);
    if (slotId === undefined) throw new Error('no slot claimed');
    const deps = {
      db,
      queues: t.queues,
      logger: createLogger({ logLevel: 'silent' }),
      pageSize: 2,
      batchSize: () => 2,
    };
    await fanOut(deps, slotId, now);
    const rows = await db.query<{ subscriber_id: string }>(
      `SELECT subscriber_id FROM deliveries WHERE campaign_id = 'where' ORDER BY 1`,
    );
    const expected = people
      .filter((p) => p.channels.includes('email'))
      .filter((p) => (p.id === 'w00003' ? true : p.id === 'w00001' ? false : p.assistant !== 'chatgpt'))
      .map((p) => p.id)
      .sort();
    expect(expected.length).toBeGreaterThan(2);
    expect(rows.map((r) => r.subscriber_id)).toEqual(expected);
  });
});
