// The gate on a real Redis: several gates (as several worker processes would) sharing one key
// admit at most `max` calls in any window, spaced out rather than in bursts.
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { busiest } from '../../test/support/windows.ts';
import { createRateGate } from './rate-gate.ts';

const connections: Redis[] = [];
const connect = () => {
  const redis = new Redis(inject('testRedisUrl'));
  connections.push(redis);
  return redis;
};
const key = `lastcall-test-${randomBytes(4).toString('hex')}:rate`;

afterAll(async () => {
  await connections[0]?.del(`${key}:next`, `${key}:log`);
  for (const redis of connections) redis.disconnect();
});

describe('createRateGate', () => {
  it('holds max calls per window across gates on separate connections', async () => {
    const gates = [createRateGate(connect(), key, 10), createRateGate(connect(), key, 10)];
    const started = Date.now();
    await Promise.all(Array.from({ length: 30 }, (_, i) => gates[i % 2]!.acquire()));
    const elapsed = Date.now() - started;
    // 30 calls at 10 per 1.05 s: the last one no sooner than about two windows in.
    expect(elapsed).toBeGreaterThanOrEqual(2_000);
    // The admission log (Redis clock) is the gate's own record of every call.
    const flat = (await connections[0]!.call('ZRANGE', `${key}:log`, '0', '-1', 'WITHSCORES')) as unknown[];
    const scores = Array.isArray(flat[0])
      ? (flat as [string, string][]).map(([, score]) => Number(score))
      : flat.filter((_, i) => i % 2 === 1).map(Number);
    expect(scores).toHaveLength(30);
    expect(busiest(scores, 1000)).toBeLessThanOrEqual(10);
    // Spread out: no more than a couple admitted within any 50 ms.
    expect(busiest(scores, 50)).toBeLessThanOrEqual(2);
  });

  it('hands out a page of permits in order, holding max per window across gates, and stops on cancel', async () => {
    const pageKey = `${key}-pages`;
    const gates = [createRateGate(connect(), pageKey, 10), createRateGate(connect(), pageKey, 10)];
    const pages = gates.map((gate) => gate.reserve(12));
    const granted = await Promise.all(pages.flatMap((p) => p.permits));
    expect(granted.every((g) => g === true)).toBe(true);
    const flat = (await connections[0]!.call(
      'ZRANGE',
      `${pageKey}:log`,
      '0',
      '-1',
      'WITHSCORES',
    )) as unknown[];
    const scores = Array.isArray(flat[0])
      ? (flat as [string, string][]).map(([, score]) => Number(score))
      : flat.filter((_, i) => i % 2 === 1).map(Number);
    expect(scores).toHaveLength(24);
    expect(busiest(scores, 1000)).toBeLessThanOrEqual(10);

    // Cancelled after its first permit: the rest resolve false and are never counted.
    const page = gates[0]!.reserve(5);
    await page.permits[0];
    page.cancel();
    const rest = await Promise.all(page.permits.slice(1));
    expect(rest.filter((g) => g === false).length).toBeGreaterThan(0);
    await connections[0]?.del(`${pageKey}:next`, `${pageKey}:log`);
  });

  it('lets a call through at once when there is room', async () => {
    const gate = createRateGate(connect(), `${key}-fast`, 1000);
    const started = Date.now();
    await gate.acquire();
    expect(Date.now() - started).toBeLessThan(200);
  });
});
