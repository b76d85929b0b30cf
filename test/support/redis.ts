// A queue prefix of its own for each test file, so that files running in parallel never see
// each other's jobs, and a cleanup that deletes every key under it.
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { inject } from 'vitest';

export interface TestRedis {
  readonly url: string;
  /** BullMQ prefix (config QUEUE_PREFIX): every key of this file starts with `${prefix}:`. */
  readonly prefix: string;
  /** REDIS_URL and QUEUE_PREFIX, to spread into testConfig() or a child process's env. */
  readonly env: { REDIS_URL: string; QUEUE_PREFIX: string };
  /** Deletes every key under the prefix. */
  cleanup(): Promise<number>;
}

export function createTestRedis(): TestRedis {
  const url = inject('testRedisUrl');
  const prefix = `lastcall-test-${randomBytes(4).toString('hex')}`;
  return {
    url,
    prefix,
    env: { REDIS_URL: url, QUEUE_PREFIX: prefix },
    cleanup: () => deleteKeys(url, `${prefix}:*`),
  };
}

export async function deleteKeys(url: string, pattern: string): Promise<number> {
  const redis = new Redis(url, { maxRetriesPerRequest: 1 });
  let deleted = 0;
  try {
    for await (const keys of redis.scanStream({ match: pattern, count: 1000 }) as AsyncIterable<string[]>) {
      if (keys.length > 0) deleted += await redis.unlink(...keys);
    }
    return deleted;
  } finally {
    await redis.quit().catch(() => redis.disconnect());
  }
}
