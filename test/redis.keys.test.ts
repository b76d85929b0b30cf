// Every key Lastcall writes in Redis starts with QUEUE_PREFIX and carries the hash tag of the
// queue it belongs to, so that a Redis Cluster keeps each queue's keys in one slot (BullMQ's
// scripts and the rate gate touch several at once) and spreads the queues over its primaries.
// On the test Redis (not a cluster; test/redis-cluster.test.ts checks the placement on a real
// one): the keys a queued job, a scheduler, the rate gate, a channel note, a tick's recovery
// markers leave behind.
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { markChannelDown } from '../src/delivery/channel-guard.ts';
import { createRateGate } from '../src/delivery/rate-gate.ts';
import { runTick } from '../src/delivery/tick.service.ts';
import { QUEUES } from '../src/queue/catalog.ts';
import { QueueSet } from '../src/queue/connection.ts';
import { hashTagOf, rateGateKey } from '../src/queue/keys.ts';
import { testConfig } from './support/config.ts';
import { createTestDatabase, type TestDatabase } from './support/db.ts';
import { createTestRedis, type TestRedis } from './support/redis.ts';

let redis: TestRedis;
let database: TestDatabase;
let queues: QueueSet;
let client: Redis;

beforeAll(async () => {
  redis = createTestRedis();
  database = await createTestDatabase();
  queues = new QueueSet(testConfig(redis.env));
  client = new Redis(redis.url);
});
afterAll(async () => {
  await queues.close();
  await client.quit();
  await redis.cleanup();
  await database.drop();
});

describe('Redis keys', () => {
  it('all start with the prefix, each under the hash tag of its queue', async () => {
    expect(redis.prefix).toMatch(/^lastcall-test-[0-9a-f]+$/);
    expect(queues.prefix).toBe(redis.prefix);
    await queues.get(QUEUES.tick).add('probe', {}, { jobId: 'probe-1' });
    await queues.get(QUEUES.tick).upsertJobScheduler('probe-scheduler', { every: 60_000 });
    await queues.get(QUEUES.email).add('probe', {}, { jobId: 'probe-2' });
    await createRateGate(queues.connection, rateGateKey(queues.prefix, 'whatsapp'), 10).acquire();
    const note = { code: '190', detail: 'probe', at: new Date(0).toISOString(), credentials: 'probe' };
    await markChannelDown(queues, 'whatsapp', note, pino({ level: 'silent' }));
    expect(
      (await runTick({ db: database.db, queues, logger: pino({ level: 'silent' }) }, Date.now())).ran,
    ).toBe(true);

    const keys = await client.keys(`*${redis.prefix}*`);
    expect(keys.length).toBeGreaterThan(10);
    expect(keys.filter((k) => !k.startsWith(`${redis.prefix}:{`))).toEqual([]);
    const tags = new Set(keys.map(hashTagOf));
    // The tick's recovery markers name every queue; nothing shares one tag for all.
    expect([...tags].sort()).toEqual(Object.values(QUEUES).sort());
    expect(keys).toContain(`${redis.prefix}:{send-whatsapp}:lastcall:rate:whatsapp:log`);
    expect(keys).toContain(`${redis.prefix}:{send-whatsapp}:lastcall:channel-down:whatsapp`);
    expect(keys).toContain(`${redis.prefix}:{send-whatsapp}:send-whatsapp:meta`);
    expect(keys).toContain(`${redis.prefix}:{send-email}:send-email:probe-2`);
    expect(keys.filter((k) => k.includes(':tick:')).every((k) => hashTagOf(k) === 'tick')).toBe(true);
  });
});
