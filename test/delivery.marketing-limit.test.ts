// Meta's per-user marketing limit (131049) through real workers: the message is tried again at
// growing intervals inside the campaign's window (1 h after the first refusal, 2 h after the
// second), and not at all when the next try would come after the deadline (docs/whatsapp.md).
import { describe, expect, it } from 'vitest';
import { sendQueueFor } from '../src/queue/catalog.ts';
import type { GraphFailure } from '../src/sandbox/graph-failures.ts';
import { ManualClock } from '../src/shared/clock.ts';
import {
  attemptsOf,
  deliveriesOf,
  inFlight,
  seedSubscribers,
  startCampaign,
  subscriber,
  tickAndWait,
  waitFor,
} from './support/delivery.ts';
import { useDeliveryWorkers } from './support/delivery-workers.ts';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const BASE = Date.parse('2031-06-03T07:00:00Z');
const clock = new ManualClock(BASE);

const stack = useDeliveryWorkers(clock);

async function refusedCampaign(
  id: string,
  n: number,
  deadline: number,
  failure: GraphFailure = { type: 'graph', code: 131049 },
) {
  const person = { ...subscriber(`${id}-p`, n, ['whatsapp']), tags: [id] };
  await seedSubscribers(stack.services.database.db, [person], BASE - HOUR);
  // Refused twice with 131049 (by default), then accepted.
  stack.services.graph.setFailure(failure, { to: person.phone!, times: 2 });
  await startCampaign(
    stack.services.database.db,
    {
      id,
      deadline,
      tags: [id],
      steps: [
        {
          id: 'now',
          before: `PT${Math.round((deadline - BASE - MINUTE) / MINUTE)}M`,
          channels: ['whatsapp'],
          template: 'first-notice',
        },
      ],
    },
    BASE,
  );
  return person;
}

const row = async (id: string) => (await deliveriesOf(stack.services.database.db, id))[0]!;
const nextAttempt = async (deliveryId: number) =>
  (
    await stack.services.database.db.one<{ next_attempt_at: Date | null }>(
      'SELECT next_attempt_at FROM deliveries WHERE id = $1',
      [deliveryId],
    )
  )?.next_attempt_at?.getTime();

/** The delivery's own delayed job runs now, the clock being `instant`. */
async function promoteAt(deliveryId: number, instant: number): Promise<void> {
  clock.set(instant);
  const queue = stack.workers.queues.get(sendQueueFor('whatsapp'));
  const job = await waitFor('its delayed job', () => queue.getJob(`delivery-${deliveryId}`));
  await job.promote();
}

describe("Meta's per-user marketing limit (131049)", () => {
  it('fails with 131049 when the next try would come after the deadline', async () => {
    await refusedCampaign('mk-late', 2, BASE + 30 * MINUTE);
    await tickAndWait(clock, stack.workers, stack.services.database.db, BASE + MINUTE);
    await waitFor('settled', async () => (await inFlight(stack.services.database.db, 'mk-late')) === 0);
    expect(await row('mk-late')).toMatchObject({ status: 'failed', error_code: '131049' });
  });

  it('is tried again 1 h, then 2 h later, and goes out once Meta accepts it', async () => {
    await refusedCampaign('mk-pace', 1, BASE + 10 * HOUR);
    await tickAndWait(clock, stack.workers, stack.services.database.db, BASE + MINUTE);
    await waitFor('the first refusal recorded', async () => (await row('mk-pace')).status === 'retrying');
    const first = await row('mk-pace');
    expect(first.error_code).toBe('131049');
    expect(await nextAttempt(first.id)).toBe(BASE + MINUTE + HOUR);
    // Its own job waits an hour (BullMQ's delay, in real time): an hour later, as it were.
    await promoteAt(first.id, BASE + MINUTE + HOUR);
    await waitFor(
      'the second refusal recorded',
      async () => (await attemptsOf(stack.services.database.db, first.id)).length === 2,
    );
    expect(await nextAttempt(first.id)).toBe(BASE + MINUTE + 3 * HOUR);
    await promoteAt(first.id, BASE + MINUTE + 3 * HOUR);
    await waitFor('sent', async () => (await row('mk-pace')).status === 'sent');
    expect((await attemptsOf(stack.services.database.db, first.id)).map((a) => a.outcome)).toEqual([
      'deferred',
      'deferred',
      'sent',
    ]);
  });

  it('records a message Meta holds for a quality assessment (template pacing) as sent, with the hold', async () => {
    await refusedCampaign('mk-held', 3, BASE + 20 * HOUR, { type: 'held' });
    await tickAndWait(clock, stack.workers, stack.services.database.db, BASE + 4 * HOUR);
    await waitFor('sent', async () => (await row('mk-held')).status === 'sent');
    const attempts = await stack.services.database.db.query<{ outcome: string; detail: string | null }>(
      'SELECT outcome, detail FROM delivery_attempts WHERE delivery_id = $1',
      [(await row('mk-held')).id],
    );
    expect(attempts).toEqual([{ outcome: 'sent', detail: 'held_for_quality_assessment' }]);
  });
});
