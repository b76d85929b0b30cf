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
// The rate itself lives in Redis beside them (`<key>:rate`), so that `setRate` (the number's
// throughput level changed: docs/whatsapp.md) changes it for every worker at once, mid-run.
import { createHash } from 'node:crypto';
import type { RedisConnection } from '../queue/connection.ts';

// Both scripts share their clock reading and window bookkeeping. KEYS[1]: the schedule's next
// free instant (ms, Redis clock); KEYS[2]: sorted set of admitted calls (score: Redis ms), kept
// ARGV[4] ms as an audit of the last seconds; KEYS[3]: the calls per window in force, when set.
// ARGV: max (when KEYS[3] is not set), window ms, member prefix (each admitted call is
// "<prefix>-<i>"), retention ms, count.
const COMMON = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
local max = math.max(1, math.floor(tonumber(redis.call('GET', KEYS[3]) or ARGV[1])))
local window, member, keep = tonumber(ARGV[2]), ARGV[3], tonumber(ARGV[4])
local interval, count = window / max, tonumber(ARGV[5])
-- Admits up to k calls now; returns how many, and the wait (ms) before the window has room again.
local function admit(k)
  local since = math.floor(now) - window
  redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', math.floor(now) - keep)
  local n = math.min(k, max - redis.call('ZCOUNT', KEYS[2], '(' .. since, '+inf'))
  if n > 0 then
    local args = {}
    for i = 1, n do
      args[2 * i - 1] = math.floor(now)
      args[2 * i] = member .. '-' .. i
    end
    redis.call('ZADD', KEYS[2], unpack(args))
    redis.call('PEXPIRE', KEYS[2], keep)
  else
    n = 0
  end
  if n >= k then return n, 0 end
  local oldest = redis.call('ZRANGEBYSCORE', KEYS[2], '(' .. since, '+inf', 'WITHSCORES', 'LIMIT', 0, 1)
  return n, math.max(1, tonumber(oldest[2]) + window - math.floor(now) + 1)
end
`;

// Reserves `count` consecutive instants on the schedule, one every `interval` ms from the next
// free one, and admits at once those already due (one round trip for a page that need not wait).
// Returns {offset of the first instant from now, admitted now, wait before retrying, interval}
// as text.
const RESERVE = `${COMMON}
local at = math.max(tonumber(redis.call('GET', KEYS[1]) or '0'), now)
local last = at + count * interval
redis.call('SET', KEYS[1], tostring(last), 'PX', math.ceil(last - now) + 60000)
local due = 0
if at - now < 1 then due = math.min(count, math.ceil((now + 1 - at) / interval)) end
local admitted, wait = 0, 0
if due > 0 then admitted, wait = admit(due) end
return {tostring(at - now), admitted, tostring(wait), tostring(interval)}
`;

// After reserved instants came: admits up to `count` of them, or says how long until there is room.
const ADMIT = `${COMMON}
local admitted, wait = admit(count)
return {admitted, tostring(wait)}
`;

export interface RateGate {
  /** Resolves when this call may go out (it is then counted). */
  acquire(): Promise<void>;
  /**
   * Reserves `count` calls in one round trip: the i-th permit resolves `true` when call i may go
   * out (it is then counted), in order, spaced by the schedule. Admission of the calls that come
   * due together is one more round trip, not one per call. `cancel()` stops handing out permits
   * (the rest resolve `false`); the instants they had reserved go unused, which only slows.
   */
  reserve(count: number): { readonly permits: readonly Promise<boolean>[]; cancel(): void };
  /** Calls per window from now on, for every worker sharing the gate (stored in Redis). */
  setRate(max: number): Promise<void>;
}

export interface RateGateOptions {
  readonly windowMs?: number;
  /** Headroom for the delay between admission and the request's arrival (default 50 ms). */
  readonly marginMs?: number;
  /**
   * How long admitted calls stay in the log after leaving the window (default 10 s): an audit
   * that tests read, longer for a test whose reader may be starved on a busy machine
   * (docs/testing.md). The log and its key's idle expiry are kept this long.
   */
  readonly auditMs?: number;
}

let sequence = 0;
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
  const keys = [`${key}:next`, `${key}:log`, `${key}:rate`] as const;
  // At least the window: the log is what admission counts.
  const keep = Math.max(span, Math.floor(options.auditMs ?? AUDIT_MS));
  const args = (count: number) => [limit, span, `${process.pid}-${Date.now()}-${++sequence}`, keep, count];

  function reserve(count: number) {
    const waiting = Array.from({ length: count }, () => Promise.withResolvers<boolean>());
    let granted = 0;
    let cancelled = false;
    const grant = (n: number) => {
      for (let i = 0; i < n; i++) waiting[granted++]?.resolve(true);
    };
    const run = async () => {
      const [offsetText, admitted, waitText, intervalText] = (await evalScript(
        redis,
        RESERVE,
        keys,
        args(count),
      )) as [string, number, string, string];
      // The spacing of this reservation's instants, at the rate in force when it was made.
      const interval = Number.parseFloat(intervalText);
      // Time is counted from the reply, not the request: a slow round trip then makes calls
      // late, never early (early calls from several pages would bunch at the provider).
      const started = performance.now();
      const offset = Number.parseFloat(offsetText);
      grant(Number(admitted));
      let wait = Number.parseFloat(waitText);
      while (granted < count && !cancelled) {
        // Local time since the reply stands in for Redis time since the reservation (a little
        // more: the reply's way back).
        const elapsed = performance.now() - started;
        const due = Math.min(count, Math.ceil((elapsed + 1 - offset) / interval));
        const untilNext = offset + granted * interval - elapsed;
        if (wait > 0 || due <= granted) {
          await sleep(Math.max(1, Math.round(Math.max(wait, untilNext))));
          wait = 0;
          continue;
        }
        const [more, moreWait] = (await evalScript(redis, ADMIT, keys, args(due - granted))) as [
          number,
          string,
        ];
        grant(Number(more));
        wait = Number.parseFloat(moreWait);
      }
    };
    run().then(
      () => {
        for (const w of waiting.slice(granted)) w.resolve(false);
      },
      (error: unknown) => {
        for (const w of waiting.slice(granted)) w.reject(error);
      },
    );
    return {
      permits: waiting.map((w) => w.promise),
      cancel() {
        cancelled = true;
      },
    };
  }

  return {
    async acquire() {
      await reserve(1).permits[0];
    },
    reserve,
    async setRate(rate: number) {
      await redis.set(keys[2], String(Math.max(1, Math.floor(rate))));
    },
  };
}

const shas = new Map<string, string>();

/** EVALSHA (the script text travels once per Redis), EVAL when Redis does not know it yet. */
async function evalScript(
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
