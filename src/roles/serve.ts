// The HTTP role, wired once for `lastcall serve`, `lastcall start` and `lastcall demo`: the
// database, the queues (webhook intake, health, metrics and the board), the services
// (createServices: the subscription service plans joiners into running campaigns), the Fastify
// server listening and, when configured, the unsubscribe SMTP listener.
import type { FastifyInstance } from 'fastify';
import type { ServeConfig } from '../config/config.ts';
import { buildServer } from '../http/server.ts';
import { startUnsubscribeSmtp, type UnsubscribeSmtp } from '../inbound/unsubscribe-smtp.ts';
import { QUEUES } from '../queue/catalog.ts';
import { QueueSet } from '../queue/connection.ts';
import { type Clock, systemClock } from '../shared/clock.ts';
import type { Logger } from '../shared/logger.ts';
import { watchDatabase } from '../store/outage.ts';
import { openDb } from '../store/pool.ts';
import { createServices } from './services.ts';

export interface HttpServiceOptions {
  readonly logger: Logger;
  readonly clock?: Clock;
  /** Address to listen on (default 0.0.0.0). */
  readonly host?: string;
}

export interface HttpService {
  /** The port listened on (HTTP_PORT, or the one picked for 0). */
  readonly port: number;
  /** The unsubscribe SMTP port (UNSUBSCRIBE_SMTP_PORT, or the one picked for 0), when on. */
  readonly smtpPort: number | undefined;
  /** Stops taking connections, lets requests in flight finish for up to `timeoutMs`, then
   *  cuts the rest and closes the queues and the pool. Says whether it had to force. */
  close(timeoutMs: number): Promise<'graceful' | 'forced'>;
}

export async function startHttpService(config: ServeConfig, opts: HttpServiceOptions): Promise<HttpService> {
  const clock = opts.clock ?? systemClock;
  const { logger } = opts;
  // A PostgreSQL outage is logged once (outage.ts); /healthz says 503 naming it meanwhile.
  const db = openDb(config, { watch: watchDatabase(logger) });
  const queues = new QueueSet(config);
  // Without listeners BullMQ prints every reconnection error to the console.
  const redisDown = (err: Error) => logger.warn({ err: err.message }, 'Redis');
  queues.connection.on('error', redisDown);
  for (const name of Object.values(QUEUES)) queues.get(name).on('error', redisDown);
  const services = createServices({ config, db, queues, clock, logger });
  const release = () => Promise.allSettled([services.close(), queues.close(), db.close()]);
  const host = opts.host ?? '0.0.0.0';
  let app: FastifyInstance;
  try {
    app = await buildServer({ config, db, queues, services, logger, clock });
    await app.listen({ host, port: config.httpPort });
  } catch (error) {
    await release();
    const code = (error as { code?: string }).code;
    throw new Error(
      code === 'EADDRINUSE'
        ? `HTTP_PORT=${config.httpPort}: the port is already in use (stop the other server or set HTTP_PORT)`
        : `cannot listen on ${host}:${config.httpPort}: ${(error as Error).message}`,
      { cause: error },
    );
  }
  let smtp: UnsubscribeSmtp | undefined;
  if (config.unsubscribeSmtp) {
    try {
      smtp = await startUnsubscribeSmtp(
        {
          mailbox: config.unsubscribeSmtp.mailbox,
          tls: config.unsubscribeSmtp.tls,
          secretKey: config.secretKey,
          subscriptions: services.subscriptions,
          returnPathDomain: config.unsubscribeSmtp.returnPathDomain,
          reports: services.bounces,
          logger,
          clock,
        },
        config.unsubscribeSmtp.port,
        host,
      );
    } catch (error) {
      await app.close();
      await release();
      throw new Error(
        `unsubscribe SMTP listener (UNSUBSCRIBE_SMTP_PORT=${config.unsubscribeSmtp.port}): ${(error as Error).message}`,
        { cause: error },
      );
    }
  }
  const address = app.server.address();
  return {
    port: typeof address === 'object' && address ? address.port : config.httpPort,
    smtpPort: smtp?.port,
    async close(timeoutMs) {
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<'timeout'>((resolve) => {
        timer = setTimeout(() => resolve('timeout'), timeoutMs);
      });
      const closed = await Promise.race([
        Promise.all([app.close(), smtp?.close()]).then(() => 'done' as const),
        timeout,
      ]);
      clearTimeout(timer);
      if (closed === 'timeout') app.server.closeAllConnections();
      await release();
      return closed === 'done' ? 'graceful' : 'forced';
    },
  };
}
