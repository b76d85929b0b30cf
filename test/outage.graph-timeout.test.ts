// Graph API timeouts (docs/operations.md, "Outages"; at most once): the fake takes the message and
// answers only after the worker's timeout. The request reached Meta, so the delivery becomes
// `unknown` and is never sent again, not by a retry and not by a later tick's recovery;
// `campaign stats` and `subscribers show` say why. A send that never reached the API (connection
// refused) is retried: src/delivery/channels/whatsapp.test.ts.
import { describe, expect, it } from 'vitest';
import { createCampaignService } from '../src/campaigns/campaign.service.ts';
import { statsText } from '../src/cli/commands/campaign-stats.ts';
import { profileText } from '../src/cli/commands/subscribers-show.ts';
import { ManualClock } from '../src/shared/clock.ts';
import { parseSubscriberKey } from '../src/subscribers/subscriber-key.ts';
import { subscriberProfile } from '../src/subscribers/subscriber-profile.ts';
import { failures } from './fakes/graph-api.ts';
import {
  attemptsOf,
  deliveriesOf,
  digits,
  inFlight,
  seedSubscribers,
  startCampaign,
  subscriber,
  tickAndWait,
  waitFor,
} from './support/delivery.ts';
import { useDeliveryWorkers } from './support/delivery-workers.ts';

const MINUTE = 60_000;
const BASE = Date.parse('2031-06-02T07:00:00Z');
const TIMEOUT_MS = 500;
const clock = new ManualClock(BASE);

const stack = useDeliveryWorkers(clock, {
  timeouts: { whatsappTimeoutMs: TIMEOUT_MS },
  recovery: { graceMs: 0, orphanAfterMs: 0 },
});

const tick = (instant: number) => tickAndWait(clock, stack.workers, stack.services.database.db, instant);

describe('a Graph API answer that comes after the timeout', () => {
  it('leaves the delivery unknown, never re-sent, and says why', async () => {
    const { database, graph } = stack.services;
    const slow = subscriber('gt-slow', 301, ['whatsapp']);
    const fine = subscriber('gt-fine', 302, ['whatsapp']);
    await seedSubscribers(database.db, [slow, fine], BASE - 60 * MINUTE);
    await startCampaign(
      database.db,
      {
        id: 'graph-timeout',
        deadline: BASE + 5 * MINUTE,
        steps: [{ id: 'm4', before: 'PT4M', channels: ['whatsapp'], template: 'first-notice' }],
      },
      BASE,
    );
    // Meta takes it (the fake records it as sent) and answers four timeouts later.
    graph.setFailure(failures.lateAnswer(4 * TIMEOUT_MS), { to: slow.phone!, times: 1 });

    await tick(BASE + MINUTE);
    await waitFor('both sends settled', async () => (await inFlight(database.db, 'graph-timeout')) === 0);
    const requestsTo = (phone: string) =>
      graph.requests.filter((r) => (r.body as { to?: string } | undefined)?.to === digits(phone)).length;
    const sentTo = (phone: string) => graph.sent().filter((m) => m.to === digits(phone)).length;

    const bySubscriber = async () =>
      Object.fromEntries((await deliveriesOf(database.db, 'graph-timeout')).map((r) => [r.subscriber_id, r]));
    const first = await bySubscriber();
    expect(first['gt-fine']).toMatchObject({ status: 'sent', attempts: 1 });
    expect(first['gt-slow']).toMatchObject({ status: 'unknown', error_code: 'timeout', attempts: 1 });
    expect(await attemptsOf(database.db, first['gt-slow']!.id)).toEqual([
      { outcome: 'unknown', error_code: 'timeout' },
    ]);

    // Later ticks (their recovery re-queues rows without a job) leave it alone.
    await tick(BASE + 2 * MINUTE);
    await tick(BASE + 3 * MINUTE);
    expect((await bySubscriber())['gt-slow']).toMatchObject({ status: 'unknown', attempts: 1 });
    expect(requestsTo(slow.phone!)).toBe(1);
    expect(sentTo(slow.phone!)).toBe(1); // Meta has it once: the person got it once
    expect(sentTo(fine.phone!)).toBe(1);

    // What an operator reads.
    const stats = await createCampaignService({ db: database.db }).stats('graph-timeout', BASE + 3 * MINUTE);
    expect(stats.steps).toEqual([
      expect.objectContaining({
        step: 'm4',
        channel: 'whatsapp',
        sent: 1,
        unknown: 1,
        unknownByReason: { timeout: 1 },
      }),
    ]);
    expect(statsText(stats)).toContain('m4 whatsapp unknown (maybe sent, never re-sent): timeout ×1');
    const profile = await subscriberProfile(database.db, parseSubscriberKey('gt-slow'));
    expect(profile.deliveries.latest[0]).toMatchObject({
      status: 'unknown',
      errorCode: 'timeout',
      errorDetail: expect.stringContaining('the provider may have accepted it, so it is not sent again'),
    });
    expect(profileText(profile)).toMatch(/unknown: timeout: the request was sent and no answer came in time/);
  });
});
