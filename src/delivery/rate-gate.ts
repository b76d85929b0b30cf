// The per-channel rate limit, held across every worker at the moment of the provider call.
// BullMQ's limiter (workers.ts) counts job *starts* in fixed windows: a window's jobs all start
// at once, and between a job's start and its request the sender claims the row and renders the
// message, a delay that varies; measured at the provider that made up to 2.8× the rate in some
// one-second spans. This gate works on the calls themselves, with Redis's clock, whichever
// worker process makes them:
// 1. a schedule (GCRA) hands each call the next free instant, one every `(windowMs + marginMs)
//    / max` ms, so calls are spread evenly instead of bunched at window edges;
// 2. right before the call, a sliding-window log admits it only if fewer than `max` calls were
//    made in the last `windowMs + marginMs`. A process that was descheduled past its instant
//    (a busy machine) waits again here instead of bunching its late calls with on-time ones.
// The margin absorbs the few ms between admission and the request reaching the provider.
import { createHash } from 'node:crypto';
import type { RedisConnection } from '../queue/connection.ts';

// Both scripts share their clock reading and window bookkeeping. KEYS[1]: the schedule's next
// free instant (ms, Redis clock); KEYS[2]: sorted set of admitted calls (score: Redis ms), kept
// ARGV[4] ms as an audit of the last seconds. ARGV: max, window ms, unique member, retention
// ms, interval ms.
const COMMON = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
local max, window, member, keep = tonumber(ARGV[1]), tonumber(ARGV[2]), ARGV[3], tonumber(ARGV[4])
local function admit()
  local since = math.floor(now) - window
  redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', math.floor(now) - keep)
  if redis.call('ZCOUNT', KEYS[2], '(' .. since, '+inf') < max then
    redis.call('ZADD', KEYS[2], math.floor(now), member)
    redis.call('PEXPIRE', KEYS[2], keep)
    return 0
  end
  local oldest = redis.call('ZRANGEBYSCORE', KEYS[2], '(' .. since, '+inf', 'WITHSCORES', 'LIMIT', 0, 1)
  return math.max(1, tonumber(oldest[2]) + window - math.floor(now) + 1)
end
`;

// Reserves the next instant on the schedule; when it is now, admits at once (one round trip
// for a call that need not wait). Returns "0" when admitted, else the wait in ms, as text.
const RESERVE = `${COMMON}
local interval = tonumber(ARGV[5])
local at = math.max(tonumber(redis.call('GET', KEYS[1]) or '0'), now)
redis.call('SET', KEYS[1], tostring(at + interval), 'PX', math.ceil(at + interval - now) + 60000)
if at - now < 1 then
  local wait = admit()
  if wait == 0 then return '0' end
  return tostring(-wait)
end
return tostring(at - now)
`;

// After the reserved instant: admits, or says how long until the window has room.
const ADMIT = `${COMMON}
return admit()
`;

export interface RateGate {
  /** Resolves when this call may go out (it is then counted). */
  acquire(): Promise<void>;
}

export interface RateGateOptions {
  readonly windowMs?: number;
  /** Headroom for the delay between admission and the request's arrival (default 50 ms). */
  readonly marginMs?: number;
}

let sequence = 0;
/** How long admitted calls stay in the log after leaving the window (tests read it). */
const AUDIT_MS = 10_000;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export function createRateGate(
  redis: RedisConnection,
  key: string,
  max: number,
  options: RateGateOptions = {},
): RateGate {
  const limit = Math.max(1, Math.floor(max));
  const span = (options.windowMs ?? 1000) + (options.marginMs ?? 50);
  const interval = span / limit;
  const keys = [`${key}:next`, `${key}:log`] as const;
  return {
    async acquire() {
      const member = `${process.pid}-${Date.now()}-${++sequence}`;
      const args = [limit, span, member, AUDIT_MS, interval];
      // > 0: wait for the reserved instant, then be admitted; < 0: reserved now, but the window
      // is full for that long; 0: admitted.
      const reply = Number.parseFloat(String(await run(redis, RESERVE, keys, args)));
      if (reply === 0) return;
      await sleep(Math.max(1, Math.round(Math.abs(reply))));
      for (;;) {
        const more = Number(await run(redis, ADMIT, keys, args));
        if (more <= 0) return;
        await sleep(more);
      }
    },
  };
}

const shas = new Map<string, string>();

/** EVALSHA (the script text travels once per Redis), EVAL when Redis does not know it yet. */
async function run(
  redis: RedisConnection,
  script: string,
  keys: readonly string[],
  args: readonly (string | number)[],
) {
  let sha = shas.get(script);
  if (!sha) {
    sha = createHash('sha1').update(script).digest('hex');
    shas.set(script, sha);
  }
  try {
    return await redis.evalsha(sha, keys.length, ...keys, ...args);
  } catch (error) {
    if (!String(error).includes('NOSCRIPT')) throw error;
    return redis.eval(script, keys.length, ...keys, ...args);
  }
}
