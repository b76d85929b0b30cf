// `serve` and `work` in one process, for `lastcall start` (npm start) and `lastcall demo`: the
// HTTP server wired as `lastcall serve` wires it (subscriptions planning joiners, the queues for
// the webhook, health, metrics and board routes) and the workers from `startWorkers`. They take
// a Config rather than reading the environment, so the demo can point WhatsApp at its sandbox.
// If one role fails to start, the other is stopped before the error is thrown.
import type { FastifyInstance } from 'fastify';
import { planSubscriber } from '../campaigns/campaign.service.ts';
import type { Config } from '../config/config.ts';
import { type Clock, systemClock } from '../delivery/clock.ts';
import { type RunningWorkers, startWorkers, type WorkerSettings } from '../delivery/workers.ts';
import { buildServer } from '../http/server.ts';
import { QueueSet } from '../queue/connection.ts';
import type { Logger } from '../shared/logger.ts';
import { openDb } from '../store/pool.ts';
import { createSubscriptionService } from '../subscribers/subscription.service.ts';

export interface AllInOneOptions {
  readonly logger: Logger;
  readonly clock?: Clock;
  /** Address `serve` listens on (default 0.0.0.0, as `lastcall serve`). */
  readonly host?: string;
  readonly workers?: WorkerSettings;
}

export interface AllInOne {
  /** The port the HTTP server listens on (HTTP_PORT, or the one picked for 0). */
  readonly httpPort: number;
  readonly workers: RunningWorkers;
  /** Stops taking requests and jobs, waits up to `timeoutMs` for those in flight, closes everything. */
  close(timeoutMs?: number): Promise<void>;
}

async function startHttp(config: Config, opts: AllInOneOptions) {
  const clock = opts.clock ?? systemClock;
  const logger = opts.logger.child({ role: 'serve' });
  const db = openDb(config, { onIdleError: (err) => logger.warn({ err }, 'PostgreSQL') });
  const queues = new QueueSet(config);
  queues.connection.on('error', (err: Error) => logger.warn({ err: err.message }, 'Redis'));
  const subscriptions = createSubscriptionService({
    db,
    secretKey: config.secretKey ?? '',
    consentRecordIp: config.consentRecordIp,
    logger,
    onSubscriberActivated: async (id) => {
      await planSubscriber(db, id, clock.now());
    },
  });
  const release = () => Promise.allSettled([queues.close(), db.close()]);
  let app: FastifyInstance;
  try {
    app = await buildServer({ config, db, queues, services: { subscriptions }, logger, clock });
    await app.listen({ host: opts.host ?? '0.0.0.0', port: config.httpPort });
  } catch (error) {
    await release();
    const code = (error as { code?: string }).code;
    if (code === 'EADDRINUSE')
      throw new Error(
        `HTTP_PORT=${config.httpPort}: the port is already in use (stop the other server or set HTTP_PORT)`,
        { cause: error },
      );
    throw error;
  }
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : config.httpPort;
  return {
    port,
    async close(timeoutMs: number) {
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<'timeout'>((resolve) => {
        timer = setTimeout(() => resolve('timeout'), timeoutMs);
      });
      if ((await Promise.race([app.close(), timeout])) === 'timeout') app.server.closeAllConnections();
      clearTimeout(timer);
      await release();
    },
  };
}

export async function startAllInOne(config: Config, opts: AllInOneOptions): Promise<AllInOne> {
  const workers = await startWorkers(config, {
    logger: opts.logger.child({ role: 'work' }),
    ...(opts.clock ? { clock: opts.clock } : {}),
    ...opts.workers,
  });
  let http: Awaited<ReturnType<typeof startHttp>>;
  try {
    http = await startHttp(config, opts);
  } catch (error) {
    await workers.close(5_000);
    throw error;
  }
  return {
    httpPort: http.port,
    workers,
    async close(timeoutMs = 25_000) {
      // Requests first (a webhook may still record a status), then the jobs in flight.
      await http.close(Math.min(timeoutMs, 10_000));
      await workers.close(timeoutMs);
    },
  };
}
