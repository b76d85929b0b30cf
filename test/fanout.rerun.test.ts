// A fan-out that dies after a page's insert committed but before its jobs were queued (or
// before its cursor moved) is run again from the slot's cursor. The page's rows already exist,
// so its insert adds none of them: the rows still `queued` must be queued again under the job
// ids they carry, or they would wait for the tick's straggler sweep. The crash is staged by
// what it leaves behind: the rows in PostgreSQL, no job in Redis, the cursor where it was.
import { describe, expect, it } from 'vitest';
import { claimDueSlots, fanOut } from '../src/delivery/fanout.service.ts';
import { jobs } from '../src/queue/catalog.ts';
import { createLogger } from '../src/shared/logger.ts';
import {
  makeSubscribers,
  seedSubscribers,
  startDueCampaign,
  useDeliveryServices,
} from './support/delivery.ts';

const MINUTE = 60_000;
const t = useDeliveryServices();

interface Row {
  id: number;
  subscriber_id: string;
  status: string;
  job_id: string | null;
}

const rowsOf = (campaignId: string) =>
  t.services.database.db.query<Row>(
    `SELECT id, subscriber_id, status, job_id FROM deliveries WHERE campaign_id = $1 ORDER BY subscriber_id`,
    [campaignId],
  );

/** Every `sendBatch` job waiting on the WhatsApp queue: job id → its delivery ids. */
async function waitingPages(): Promise<Map<string, number[]>> {
  const found = await t.queues
    .get(jobs.sendBatch.queue('whatsapp'))
    .getJobs(['waiting', 'delayed', 'prioritized']);
  return new Map(found.map((job) => [job.id!, (job.data as { deliveryIds: number[] }).deliveryIds]));
}

describe('a fan-out run again after a crash between a page insert and its jobs', () => {
  it('queues the rows still queued under the jobs they carry, adds only the missing ones, leaves the others', async () => {
    const db = t.services.database.db;
    const now = Date.now();
    // 8 of 12 have WhatsApp: pages of 3 subscribers, jobs of 2 deliveries.
    await seedSubscribers(db, makeSubscribers(12, ['Europe/Paris'], 'r'), now - 60 * MINUTE);
    await startDueCampaign(
      db,
      'rerun',
      [{ id: 'm10', before: 'PT10M', channels: ['whatsapp'], template: 'first-notice' }],
      now,
    );
    const [slotId] = await claimDueSlots({ db }, now);
    if (slotId === undefined) throw new Error('no slot claimed');
    const deps = {
      db,
      queues: t.queues,
      logger: createLogger({ logLevel: 'silent' }),
      pageSize: 3,
      batchSize: () => 2,
    };
    expect(await fanOut(deps, slotId, now)).toMatchObject({ status: 'done', queued: 8, pages: 3 });
    const first = await rowsOf('rerun');
    expect(first).toHaveLength(8);

    // What the crash leaves: no job in Redis, the slot still fanning out from its first page;
    // meanwhile one row was sent (a job that did run), and one row is missing (the
    // subscriber's row was never written), so one page has both old and new rows.
    await t.queues.get(jobs.sendBatch.queue('whatsapp')).obliterate({ force: true });
    expect((await waitingPages()).size).toBe(0);
    await db.exec(`UPDATE slots SET state = 'fanning_out', cursor = NULL WHERE id = $1`, [slotId]);
    const [sent, missing] = [first[1]!, first[4]!];
    await db.exec(`UPDATE deliveries SET status = 'sent' WHERE id = $1`, [sent.id]);
    await db.exec(`DELETE FROM deliveries WHERE id = $1`, [missing.id]);

    expect(await fanOut(deps, slotId, now)).toMatchObject({ status: 'done', queued: 1, pages: 3 });
    const after = await rowsOf('rerun');
    expect(after.map((r) => r.subscriber_id)).toEqual(first.map((r) => r.subscriber_id));
    // Rows that survived kept their ids and jobs; the missing one is back, with a job of its own page.
    for (const row of after.filter((r) => r.subscriber_id !== missing.subscriber_id))
      expect(first).toContainEqual({ ...row, status: row.id === sent.id ? 'queued' : row.status });
    const readded = after.find((r) => r.subscriber_id === missing.subscriber_id)!;
    expect(readded.id).not.toBe(missing.id);
    expect(readded.job_id).toBe(missing.job_id);

    // Every queued row is in the job its row names, and nothing else is queued.
    const pages = await waitingPages();
    const queued = after.filter((r) => r.status === 'queued');
    expect(queued).toHaveLength(7);
    for (const row of queued)
      expect(pages.get(row.job_id!) ?? [], `row ${row.id} in ${row.job_id}`).toContain(row.id);
    expect([...pages.values()].flat().sort((a, b) => a - b)).toEqual(
      queued.map((r) => r.id).sort((a, b) => a - b),
    );
  });
});
