// A queue prefix of its own for each test file, so that files running in parallel never see
// each other's jobs, and a cleanup that deletes every key under it.
import { randomBytes } from 'node:crypto';
import { delimiter } from 'node:path';
import { Redis } from 'ioredis';
import { inject } from 'vitest';
import { dockerAnswers, startDockerRedis } from '../../src/ops/local-servers/docker.ts';
import { localRedisBinary, type PrivateService, startLocalRedis } from '../../src/ops/local-servers/local.ts';
import type { RedisConnection } from '../../src/queue/connection.ts';

export interface TestRedis {
  readonly url: string;
  /**
   * QUEUE_PREFIX (`lastcall-test-…`): every key of this file starts with `${prefix}:`, each
   * queue's under its own hash tag (src/queue/keys.ts).
   */
  readonly prefix: string;
  /** REDIS_URL and QUEUE_PREFIX (and REDIS_CLUSTER on a cluster), to spread into testConfig()
   *  or a child process's env. */
  readonly env: { REDIS_URL: string; QUEUE_PREFIX: string; REDIS_CLUSTER?: string };
  /** A client of the test's own (a Cluster client on a cluster); close it. */
  connect(): RedisConnection;
  /** Deletes every key under the prefix (and stops a private Redis). */
  cleanup(): Promise<number>;
  /**
   * Redis loses all its data: `FLUSHALL` on a private Redis; on the shared one, every key of
   * this prefix (other files run there). Returns how many keys were lost.
   */
  loseEverything(): Promise<number>;
  /** What `loseEverything` does here, for the test's log. */
  readonly loss: 'FLUSHALL' | 'prefix deleted';
}

let fileRedis: (() => TestRedis) | undefined;

/** Makes createTestRedis and createPrivateTestRedis give this file's own Redis (a cluster:
 *  support/redis-cluster.ts), or the usual ones again with undefined. */
export function useTestRedis(factory: (() => TestRedis) | undefined): void {
  fileRedis = factory;
}

export function createTestRedis(): TestRedis {
  if (fileRedis) return fileRedis();
  const url = inject('testRedisUrl');
  const prefix = `lastcall-test-${randomBytes(4).toString('hex')}`;
  return {
    url,
    prefix,
    env: { REDIS_URL: url, QUEUE_PREFIX: prefix },
    connect: () => new Redis(url),
    cleanup: () => deleteKeys(url, `${prefix}:*`),
    loseEverything: () => deleteKeys(url, `${prefix}:*`),
    loss: 'prefix deleted',
  };
}

/**
 * A Redis of this file's own (local redis-server, else a Docker container), so that it can be
 * flushed whole. Without either, the shared test Redis and a per-prefix loss. In a file that
 * runs on a Redis Cluster, that cluster (the file's own too).
 */
export async function createPrivateTestRedis(): Promise<TestRedis> {
  if (fileRedis) return fileRedis();
  let service: PrivateService | undefined;
  const binary = localRedisBinary((process.env.PATH ?? '').split(delimiter).filter(Boolean));
  if (binary) service = await startLocalRedis(binary);
  else if (await dockerAnswers()) service = await startDockerRedis();
  if (!service) return createTestRedis();
  const { url, stop } = service;
  const prefix = `lastcall-test-${randomBytes(4).toString('hex')}`;
  return {
    url,
    prefix,
    env: { REDIS_URL: url, QUEUE_PREFIX: prefix },
    connect: () => new Redis(url),
    async cleanup() {
      await stop();
      return 0;
    },
    async loseEverything() {
      const redis = new Redis(url, { maxRetriesPerRequest: 1 });
      try {
        const keys = await redis.dbsize();
        await redis.flushall();
        return keys;
      } finally {
        await redis.quit().catch(() => redis.disconnect());
      }
    },
    loss: 'FLUSHALL',
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
