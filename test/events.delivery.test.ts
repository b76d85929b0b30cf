// Outbound events (docs/api.md, "Outbound events") from the outbox to a receiver on 127.0.0.1, with
// the real drainer, BullMQ worker and PostgreSQL: every request signed; a receiver that refuses for
// a while and then accepts gets every event, in order per subscriber, none lost; one that answers
// 500 (or nothing) forever holds no worker; after 24 hours an event is given up and the next one
// goes.
import type { Worker } from 'bullmq';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type EventType, recordEvent } from '../src/events/outbox.ts';
import { QUEUES } from '../src/queue/catalog.ts';
import { createWorkerConnection, QueueSet } from '../src/queue/connection.ts';
import { startEventsWorker } from '../src/roles/work-events.ts';
import { ManualClock } from '../src/shared/clock.ts';
import { createLogger } from '../src/shared/logger.ts';
import { type EventReceiver, startEventReceiver } from './fakes/event-receiver.ts';
import { testConfig } from './support/config.ts';
import { createTestDatabase, type TestDatabase } from './support/db.ts';
import { waitFor } from './support/delivery.ts';
import { createTestRedis, type TestRedis } from './support/redis.ts';

const SECRET = 'events-secret-for-tests';
const clock = new ManualClock(Date.parse('2030-05-04T09:30:00Z'));
let database: TestDatabase;
let redis: TestRedis;
let queues: QueueSet;
let receiver: EventReceiver;
let worker: Worker | undefined;
let connection: ReturnType<typeof createWorkerConnection>;

beforeAll(async () => {
  database = await createTestDatabase();
  redis = createTestRedis();
  const config = testConfig({ DATABASE_URL: database.url, ...redis.env });
  queues = new QueueSet(config);
  connection = createWorkerConnection(config);
  receiver = await startEventReceiver(SECRET);
});
afterEach(async () => {
  await worker?.close();
  worker = undefined;
});
afterAll(async () => {
  await receiver?.close();
  await queues?.close();
  connection?.disconnect();
  await redis?.cleanup();
  await database?.drop();
});

function start(extra: { postTimeoutMs?: number; sweepEveryMs?: number } = {}): Worker {
  const config = testConfig({ DATABASE_URL: database.url, ...redis.env });
  worker = startEventsWorker(
    { url: receiver.url, secret: SECRET },
    {
      db: database.db,
      queues,
      connection,
      logger: createLogger(config),
      clock,
      drainEveryMs: 20,
      sweepEveryMs: 60_000,
      waitMs: 200,
      backoff: { baseMs: 20, maxMs: 200 },
      ...extra,
    },
  );
  return worker;
}

const TYPES: EventType[] = ['delivery.sent', 'delivery.delivered', 'delivery.read', 'subscriber.done'];

/** `perSubscriber` events for each of `subscribers`, interleaved, each in its own transaction. */
async function record(prefix: string, subscribers: number, perSubscriber: number): Promise<void> {
  for (let n = 0; n < perSubscriber; n++)
    for (let s = 0; s < subscribers; s++)
      await database.db.tx((sql) =>
        recordEvent(
          sql,
          { type: TYPES[n % TYPES.length]!, subscriberId: `${prefix}${s}`, data: { step: `n${n}` } },
          clock.now(),
        ),
      );
}

const owed = async (prefix: string) =>
  (await database.db.one<{ n: number }>(
    "SELECT count(*)::int AS n FROM event_outbox WHERE subscriber_id LIKE $1 || '%' AND delivered_at IS NULL AND failed_at IS NULL",
    [prefix],
  ))!.n;

describe('delivery to the receiver', () => {
  it('refused for a while, then accepted: every event arrives, signed, in order per subscriber', async () => {
    await record('a', 5, 8);
    receiver.requests.length = 0;
    receiver.answer = (i) => (i < 40 ? 503 : 204);
    start();
    await waitFor('every event delivered', async () => (await owed('a')) === 0, 60_000, 50);
    expect(receiver.requests.filter((r) => r.status === 503).length).toBeGreaterThanOrEqual(40);
    expect(receiver.requests.every((r) => r.signed)).toBe(true);
    const accepted = receiver.accepted();
    const stored = await database.db.query<{ id: string; subscriber_id: string }>(
      "SELECT id, subscriber_id FROM event_outbox WHERE subscriber_id LIKE 'a%' ORDER BY seq",
    );
    expect(new Set(accepted.map((e) => e.id))).toEqual(new Set(stored.map((e) => e.id)));
    for (let s = 0; s < 5; s++) {
      const expected = stored.filter((e) => e.subscriber_id === `a${s}`).map((e) => e.id);
      const firstArrivals = [
        ...new Set(accepted.filter((e) => e.data.subscriberId === `a${s}`).map((e) => e.id)),
      ];
      expect(firstArrivals).toEqual(expected);
    }
    expect(accepted[0]).toEqual({
      id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      type: expect.any(String),
      createdAt: new Date(clock.now()).toISOString(),
      data: { subscriberId: expect.stringMatching(/^a\d$/), step: expect.stringMatching(/^n\d$/) },
    });
  });

  it('a receiver answering 500 forever holds no worker: refused events wait delayed, retried', async () => {
    await record('b', 3, 2);
    receiver.answer = () => 500;
    start();
    await waitFor(
      'three retries of the first events',
      async () =>
        (await database.db.one<{ n: number }>(
          "SELECT min(attempts)::int AS n FROM event_outbox WHERE subscriber_id LIKE 'b%' AND seq IN (SELECT min(seq) FROM event_outbox WHERE subscriber_id LIKE 'b%' GROUP BY subscriber_id)",
        ))!.n >= 3,
      30_000,
    );
    const later = await database.db.one<{ attempts: number; last_error: string }>(
      "SELECT max(attempts)::int AS attempts, max(last_error) AS last_error FROM event_outbox WHERE subscriber_id LIKE 'b%' AND seq NOT IN (SELECT min(seq) FROM event_outbox WHERE subscriber_id LIKE 'b%' GROUP BY subscriber_id)",
    );
    expect(later).toEqual({ attempts: 0, last_error: null }); // the second event of each waits its turn
    expect(
      (await database.db.one<{ e: string }>(
        "SELECT max(last_error) AS e FROM event_outbox WHERE subscriber_id LIKE 'b%'",
      ))!.e,
    ).toBe('HTTP 500');
    const queue = queues.get(QUEUES.events);
    await waitFor(
      'no job left active',
      async () =>
        (await queue.getJobCounts('active')).active === 0 &&
        ((await queue.getJobCounts('delayed')).delayed ?? 0) > 0,
      10_000,
      20,
    );
    await worker!.close();
    worker = undefined;
    receiver.answer = () => 204;
    start();
    await waitFor('delivered once the receiver is back', async () => (await owed('b')) === 0, 30_000);
  });

  it('a receiver that never answers costs a timeout per try, not a worker', async () => {
    await record('c', 1, 1);
    receiver.answer = () => 'hang';
    start({ postTimeoutMs: 150 });
    await waitFor(
      'two timed-out tries',
      async () =>
        (await database.db.one<{ attempts: number; last_error: string | null }>(
          "SELECT attempts, last_error FROM event_outbox WHERE subscriber_id = 'c0'",
        ))!.attempts >= 2,
      30_000,
    );
    const row = await database.db.one<{ last_error: string }>(
      "SELECT last_error FROM event_outbox WHERE subscriber_id = 'c0'",
    );
    expect(row!.last_error).toBe('no answer in 150 ms');
    receiver.answer = () => 204;
    await waitFor('delivered', async () => (await owed('c')) === 0, 30_000);
  });

  it('a Redis that loses every job loses no event: the sweep queues the owed ones again', async () => {
    receiver.answer = () => 503;
    await record('r', 2, 2);
    start();
    await waitFor(
      'queued and refused once',
      async () =>
        (await database.db.one<{ n: number }>(
          "SELECT count(*)::int AS n FROM event_outbox WHERE subscriber_id LIKE 'r%' AND attempts > 0",
        ))!.n >= 2,
    );
    await worker!.close();
    worker = undefined;
    expect(await redis.loseEverything()).toBeGreaterThan(0);
    receiver.answer = () => 204;
    clock.advance(11 * 60_000); // the sweep re-queues events queued over 10 minutes ago and still owed
    start({ sweepEveryMs: 50 });
    await waitFor('delivered after the loss', async () => (await owed('r')) === 0, 30_000);
  });

  it('gives an event up 24 hours after it was queued; the next event of that subscriber goes', async () => {
    receiver.answer = () => 500;
    await record('d', 1, 1);
    start();
    await waitFor(
      'first refused',
      async () =>
        (await database.db.one<{ n: number }>(
          "SELECT max(attempts)::int AS n FROM event_outbox WHERE subscriber_id = 'd0'",
        ))!.n >= 1,
    );
    clock.advance(24 * 3600_000 + 60_000);
    await record('d', 1, 1); // a day later: this one has its own 24 hours
    receiver.answer = () => 204;
    await waitFor('both settled', async () => (await owed('d')) === 0, 30_000);
    const rows = await database.db.query<{ failed: boolean; delivered: boolean }>(
      "SELECT failed_at IS NOT NULL AS failed, delivered_at IS NOT NULL AS delivered FROM event_outbox WHERE subscriber_id = 'd0' ORDER BY seq",
    );
    expect(rows).toEqual([
      { failed: true, delivered: false },
      { failed: false, delivered: true },
    ]);
  });
});
