// GET /healthz: is this `serve` able to do its work? 200 {status:'ok', postgres:'ok', redis:'ok',
// tzVersion:'2025a'} (the tz data it plans sign-ups with),
// else 503 naming what is down. Each check is bounded, so a hung dependency answers 503 in about
// a second instead of hanging the probe (the pool and ioredis have longer timeouts of their own).
import type { FastifyPluginAsync } from 'fastify';
import { tzDataVersion } from '../../planning/tz-data.ts';
import type { QueueSet } from '../../queue/connection.ts';
import type { Db } from '../../store/pool.ts';

export interface HealthOptions {
  readonly db: Db;
  readonly queues: QueueSet;
  /** Per dependency; default 1 s. */
  readonly timeoutMs?: number;
}

export type Check = 'ok' | 'down' | 'timeout';

export async function bounded(probe: () => Promise<unknown>, timeoutMs: number): Promise<Check> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<Check>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), timeoutMs);
  });
  const run = probe().then(
    () => 'ok' as const,
    () => 'down' as const,
  );
  try {
    return await Promise.race([run, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

export const healthRoutes: FastifyPluginAsync<HealthOptions> = async (app, opts) => {
  const timeoutMs = opts.timeoutMs ?? 1000;
  // The tzdata release this process plans with (docs/timezones.md).
  const tzVersion = tzDataVersion();
  app.get('/healthz', { logLevel: 'warn' }, async (_request, reply) => {
    const [postgres, redis] = await Promise.all([
      bounded(() => opts.db.query('SELECT 1'), timeoutMs),
      bounded(() => opts.queues.connection.ping(), timeoutMs),
    ]);
    const ok = postgres === 'ok' && redis === 'ok';
    return reply
      .code(ok ? 200 : 503)
      .header('cache-control', 'no-store')
      .send({ status: ok ? 'ok' : 'unavailable', postgres, redis, tzVersion });
  });
};
