// Every key Lastcall writes in Redis carries the queue prefix's hash tag, so that a Redis
// Cluster keeps them in one slot (BullMQ's scripts and the rate gate touch several at once).
// On the test Redis (not a cluster): the keys a queued job, a scheduler, the rate gate, a
// channel note leave behind (the recovery marker is built from the same prefix).
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { markChannelDown } from '../src/delivery/channel-guard.ts';
import { createRateGate } from '../src/delivery/rate-gate.ts';
import { QUEUES } from '../src/queue/catalog.ts';
import { QueueSet } from '../src/queue/connection.ts';
import { testConfig } from './support/config.ts';
import { createTestRedis, type TestRedis } from './support/redis.ts';

let redis: TestRedis;
let queues: QueueSet;
let client: Redis;

beforeAll(() => {
  redis = createTestRedis();
  queues = new QueueSet(testConfig(redis.env));
  client = new Redis(redis.url);
});
afterAll(async () => {
  await queues.close();
  await client.quit();
  await redis.cleanup();
});

describe('Redis keys', () => {
  it('all start with the hash-tagged prefix', async () => {
    expect(redis.prefix).toMatch(/^\{lastcall-test-[0-9a-f]+\}$/);
    expect(queues.prefix).toBe(redis.prefix);
    await queues.get(QUEUES.tick).add('probe', {}, { jobId: 'probe-1' });
    await queues.get(QUEUES.tick).upsertJobScheduler('probe-scheduler', { every: 60_000 });
    await createRateGate(queues.connection, `${queues.prefix}:lastcall:rate:whatsapp`, 10).acquire();
    const note = { code: '190', detail: 'probe', at: new Date(0).toISOString(), credentials: 'probe' };
    await markChannelDown(queues, 'whatsapp', note, pino({ level: 'silent' }));
    const keys = await client.keys(`*${redis.prefix.slice(1, -1)}*`);
    expect(keys.length).toBeGreaterThan(5);
    expect(keys.filter((k) => !k.startsWith(`${redis.prefix}:`))).toEqual([]);
    expect(keys).toContain(`${redis.prefix}:lastcall:rate:whatsapp:log`);
  });
});
