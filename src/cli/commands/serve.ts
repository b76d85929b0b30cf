// `lastcall serve`: the HTTP server (SPEC 1): sign-up pages and links, the WhatsApp webhook,
// /healthz, /metrics and the queue board. It listens on 0.0.0.0:HTTP_PORT and stops on SIGTERM
// or SIGINT: no new connections, requests in flight finish (bounded), then queues and pool close.
import { type Command, InvalidArgumentError, Option } from 'commander';
import { planSubscriber } from '../../campaigns/campaign.service.ts';
import { loadConfig } from '../../config/config.ts';
import { systemClock } from '../../delivery/clock.ts';
import { buildServer } from '../../http/server.ts';
import { QUEUES } from '../../queue/catalog.ts';
import { QueueSet } from '../../queue/connection.ts';
import { onShutdownSignal } from '../../queue/shutdown.ts';
import { createLogger } from '../../shared/logger.ts';
import { redactUrl } from '../../store/connection-error.ts';
import { openDb } from '../../store/pool.ts';
import { createSubscriptionService } from '../../subscribers/subscription.service.ts';

interface ServeOptions {
  shutdownMs: number;
}

const positiveInt = (value: string): number => {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0)
    throw new InvalidArgumentError(`must be a positive whole number (got ${value})`);
  return n;
};

/** Resolves `work` unless it takes longer than `ms`. */
async function within(ms: number, work: Promise<unknown>): Promise<'done' | 'timeout'> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), ms);
  });
  const result = await Promise.race([work.then(() => 'done' as const), timeout]);
  clearTimeout(timer);
  return result;
}

export function register(program: Command): void {
  program
    .command('serve')
    .description(
      'run the HTTP server: opt-in pages, links, WhatsApp webhook, /healthz, /metrics, /admin/queues',
    )
    .addOption(
      new Option('--shutdown-ms <ms>', 'on SIGTERM, how long requests in flight may take')
        .argParser(positiveInt)
        .default(10_000),
    )
    .action(async (options: ServeOptions) => {
      const config = loadConfig('serve');
      const logger = createLogger(config, { role: 'serve', pid: process.pid });
      const clock = systemClock;
      const db = openDb(config, { onIdleError: (err) => logger.warn({ err }, 'PostgreSQL') });
      const queues = new QueueSet(config);
      // Without listeners BullMQ prints every reconnection error to the console.
      const redisDown = (err: Error) => logger.warn({ err: err.message }, 'Redis');
      queues.connection.on('error', redisDown);
      for (const name of Object.values(QUEUES)) queues.get(name).on('error', redisDown);
      const subscriptions = createSubscriptionService({
        db,
        secretKey: config.secretKey ?? '',
        consentRecordIp: config.consentRecordIp,
        logger,
        onSubscriberActivated: async (id) => {
          await planSubscriber(db, id, clock.now());
        },
      });
      const app = await buildServer({ config, db, queues, services: { subscriptions }, logger, clock });
      try {
        await app.listen({ host: '0.0.0.0', port: config.httpPort });
      } catch (error) {
        await Promise.allSettled([app.close(), queues.close(), db.close()]);
        const code = (error as { code?: string }).code;
        throw new Error(
          code === 'EADDRINUSE'
            ? `HTTP_PORT=${config.httpPort}: the port is already in use (stop the other server or set HTTP_PORT)`
            : `cannot listen on 0.0.0.0:${config.httpPort}: ${(error as Error).message}`,
          { cause: error },
        );
      }
      const address = app.server.address();
      const port = typeof address === 'object' && address ? address.port : config.httpPort;
      const base = config.publicUrl;
      logger.info(
        {
          listen: `http://0.0.0.0:${port}`,
          database: redactUrl(config.databaseUrl),
          redis: redactUrl(config.redisUrl),
          prefix: config.queuePrefix,
          whatsappWebhook: config.whatsapp ? `${base}/webhooks/whatsapp` : 'off (WhatsApp not configured)',
          subscribe: `${base}/subscribe`,
          healthz: `${base}/healthz`,
          metrics: `${base}/metrics`,
          admin: `${base}/admin/queues`,
        },
        `listening on 0.0.0.0:${port}: sign-up at ${base}/subscribe, health at ${base}/healthz, ` +
          `metrics at ${base}/metrics, queue board at ${base}/admin/queues`,
      );
      await new Promise<void>((resolve) => {
        onShutdownSignal(async (signal) => {
          logger.info({ signal }, 'stopping: no new connections, finishing requests in flight');
          const closed = await within(options.shutdownMs, app.close());
          if (closed === 'timeout') app.server.closeAllConnections();
          await within(5_000, Promise.allSettled([queues.close(), db.close()]));
          logger.info({ how: closed === 'done' ? 'graceful' : 'forced' }, 'stopped');
          resolve();
        });
      });
    });
}
