// The gate on a real Redis: several gates (as several worker processes would) sharing one key
// admit at most `max` calls in any window, spaced out rather than in bursts. Every check reads
// the gate's own state in Redis (its admission log, its schedule), not the test's stopwatch.
// rate-gate.cluster.test.ts runs the same on a Redis Cluster.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestRedis, type TestRedis } from '../../test/support/redis.ts';
import { busiest } from '../../test/support/windows.ts';
import type { RedisConnection } from '../queue/connection.ts';
import { rateGateKey } from '../queue/keys.ts';
import { createRateGate } from './rate-gate.ts';

let redis: TestRedis;
let key: string;
const connections: RedisConnection[] = [];
const connect = () => {
  const connection = redis.connect();
  connections.push(connection);
  return connection;
};

beforeAll(() => {
  redis = createTestRedis();
  // Under a queue's hash tag, as Lastcall's own gates: a cluster keeps both keys in one slot.
  key = rateGateKey(redis.prefix, 'whatsapp');
});

/** The gate's admission log: [member, score (Redis ms)], oldest first. */
async function logOf(gateKey: string): Promise<[string, number][]> {
  // RESP3 (ioredis 6's default) answers [member, score] pairs; RESP2 a flat list.
  const reply = (await connections[0]!.call(
    'ZRANGE',
    `${gateKey}:log`,
    '0',
    '-1',
    'WITHSCORES',
  )) as unknown[];
  const pairs = Array.isArray(reply[0])
    ? (reply as [string, string][])
    : Array.from(
        { length: reply.length / 2 },
        (_, i) => [reply[2 * i], reply[2 * i + 1]] as [string, string],
      );
  return pairs.map(([member, score]) => [String(member), Number(score)]);
}

afterAll(async () => {
  for (const connection of connections) connection.disconnect();
  await redis?.cleanup();
});

describe('createRateGate', () => {
  it('holds max calls per window across gates on separate connections', async () => {
    const gates = [createRateGate(connect(), key, 10), createRateGate(connect(), key, 10)];
    await Promise.all(Array.from({ length: 30 }, (_, i) => gates[i % 2]!.acquire()));
    // The admission log (Redis clock) is the gate's own record of every call.
    const scores = (await logOf(key)).map(([, score]) => score);
    expect(scores).toHaveLength(30);
    expect(busiest(scores, 1000)).toBeLessThanOrEqual(10);
    // Spread out on the gate's schedule, one instant every (1000 + 50) / 10 ms: no call is
    // admitted before its instant. A busy machine only makes calls late, never early, so this
    // holds however fast it runs: by Redis's clock, the k-th admission comes at least k
    // instants after the first (2 ms for the whole milliseconds the log keeps). 30 calls at 10 per
    // 1.05 s: the last one about three seconds after the first..
    const interval = 1050 / 10;
    const sorted = [...scores].sort((a, b) => a - b);
    const first = sorted[0]!;
    const early = sorted.filter((score, k) => score < first + k * interval - 2);
    expect(early).toEqual([]);
    // The schedule itself: 30 consecutive instants were handed out from the first one.
    const next = Number(await connections[0]!.get(`${key}:next`));
    expect(next - first).toBeGreaterThanOrEqual(30 * interval - 1);
  });

  it('hands out a page of permits in order, holding max per window across gates, and stops on cancel', async () => {
    const pageKey = `${key}-pages`;
    const gates = [createRateGate(connect(), pageKey, 10), createRateGate(connect(), pageKey, 10)];
    const pages = gates.map((gate) => gate.reserve(12));
    const granted = await Promise.all(pages.flatMap((p) => p.permits));
    expect(granted.every((g) => g === true)).toBe(true);
    const scores = (await logOf(pageKey)).map(([, score]) => score);
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
    const fastKey = `${key}-fast`;
    const gate = createRateGate(connect(), fastKey, 1);
    await gate.acquire();
    // Admitted by the reservation itself, in the same Redis instant: the schedule's next free
    // instant is one interval (1050 ms at 1 a second) after the admission, not more.
    const [[, score]] = (await logOf(fastKey)) as [[string, number]];
    const next = Number(await connections[0]!.get(`${fastKey}:next`));
    // The log keeps the whole ms of the admission; the schedule keeps Lua's tostring of the
    // fractional instant (%.14g: a tenth of a ms at today's epoch), which can round up to the next ms.
    expect(next - score).toBeGreaterThanOrEqual(1050);
    expect(next - score).toBeLessThanOrEqual(1051);
    await connections[0]?.del(`${fastKey}:next`, `${fastKey}:log`);
  });

  it('follows a rate set while it runs, for every gate on the key (kept in Redis)', async () => {
    const rateKey = `${key}-rate`;
    const gates = [createRateGate(connect(), rateKey, 1), createRateGate(connect(), rateKey, 1)];
    await gates[0]!.acquire();
    // At 1 a second, the next instant is one interval (1050 ms) after the admission.
    const [[, first]] = (await logOf(rateKey)) as [[string, number]];
    expect(Number(await connections[0]!.get(`${rateKey}:next`)) - first).toBeGreaterThanOrEqual(1050);
    // The throughput level went up: one gate sets 100 a second, and the other follows it.
    await gates[0]!.setRate(100);
    expect(await connections[0]!.get(`${rateKey}:rate`)).toBe('100');
    await connections[0]?.del(`${rateKey}:next`, `${rateKey}:log`);
    const page = gates[1]!.reserve(10);
    expect(await Promise.all(page.permits)).toEqual(Array(10).fill(true));
    // Ten instants 10.5 ms apart, not 1050: the schedule ends about 105 ms after the first.
    const scores = (await logOf(rateKey)).map(([, score]) => score).sort((a, b) => a - b);
    const next = Number(await connections[0]!.get(`${rateKey}:next`));
    expect(scores).toHaveLength(10);
    expect(next - scores[0]!).toBeGreaterThanOrEqual(10 * 10.5 - 1);
    expect(next - scores[0]!).toBeLessThan(1050);
  });

  it('keeps its audit log as long as told (auditMs), 10 s by default', async () => {
    const keptKey = `${key}-audit`;
    await createRateGate(connect(), keptKey, 10).acquire();
    // The log's idle expiry is its retention: within 10 s by default.
    const pttl = async () => Number(await connections[0]!.pttl(`${keptKey}:log`));
    expect(await pttl()).toBeGreaterThan(0);
    expect(await pttl()).toBeLessThanOrEqual(10_000);
    // A test reading it on a busy machine asks for ten minutes: the calls are still there.
    await createRateGate(connect(), keptKey, 10, { auditMs: 600_000 }).acquire();
    expect(await pttl()).toBeGreaterThan(590_000);
    expect(await logOf(keptKey)).toHaveLength(2);
    await connections[0]?.del(`${keptKey}:next`, `${keptKey}:log`);
  });
});
