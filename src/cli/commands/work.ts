// `lastcall work`: the BullMQ workers (tick, fan-out, a sender per configured channel,
// webhooks). Run any number of copies: rate limits hold across them and every delivery is
// claimed once. SIGTERM stops taking work, lets jobs in flight finish for a bounded time, exits.
// The hidden options exist for the crash and rate-limit tests, which run this command as child
// processes: they shorten BullMQ's lock so a killed worker's jobs are taken over in seconds.
import { type Command, InvalidArgumentError, Option } from 'commander';
import { Redis } from 'ioredis';
import { loadConfig } from '../../config/config.ts';
import { startMetricsServer } from '../../http/metrics-server.ts';
import { tzDataVersion } from '../../planning/tz-data.ts';
import { onShutdownSignal } from '../../queue/shutdown.ts';
import { startWorkers, type WorkerSettings } from '../../roles/work.ts';
import { createLogger, type Logger } from '../../shared/logger.ts';
import { CHANNELS, type Channel } from '../../shared/vocabulary.ts';
import { redactUrl } from '../../store/connection-error.ts';
import { port, positiveInt } from '../option-parsers.ts';

interface WorkOptions {
  resumeChannel: Channel[];
  lockMs?: number;
  stalledMs?: number;
  backoffMs?: number;
  fanoutPageSize?: number;
  replanMs?: number;
  rateAuditMs?: number;
  shutdownMs: number;
  metricsPort?: number;
  metricsHost: string;
}

const channel = (value: string, previous: Channel[]): Channel[] => {
  if (!(CHANNELS as readonly string[]).includes(value))
    throw new InvalidArgumentError(`must be one of: ${CHANNELS.join(', ')} (got ${value})`);
  return [...previous, value as Channel];
};

export function register(program: Command): void {
  program
    .command('work')
    .description(
      'run the workers: tick, fan-out, a sender per configured channel, webhooks (any number of copies)',
    )
    .option(
      '--resume-channel <channel>',
      'resume a channel stopped by an account error (bad token, policy block) without changing its credentials',
      channel,
      [],
    )
    .addOption(
      new Option('--shutdown-ms <ms>', 'on SIGTERM, how long jobs in flight may take')
        .argParser(positiveInt)
        .default(25_000),
    )
    .addOption(
      new Option(
        '--metrics-port <port>',
        "serve this process's counters (sends, durations, webhooks, CPU, memory) at GET /metrics on this port (0: any free port, logged)",
      ).argParser(port),
    )
    .option('--metrics-host <host>', 'address the metrics port listens on', '0.0.0.0')
    .addHelpText(
      'after',
      `
Examples:
  $ lastcall work
  $ lastcall work --metrics-port 9464          # Prometheus scrapes each copy's counters
  $ lastcall work --resume-channel whatsapp    # after fixing WHATSAPP_TOKEN`,
    )
    .addOption(new Option('--lock-ms <ms>').argParser(positiveInt).hideHelp())
    .addOption(new Option('--stalled-ms <ms>').argParser(positiveInt).hideHelp())
    .addOption(new Option('--backoff-ms <ms>').argParser(positiveInt).hideHelp())
    .addOption(new Option('--fanout-page-size <n>').argParser(positiveInt).hideHelp())
    .addOption(new Option('--replan-ms <ms>').argParser(positiveInt).hideHelp())
    .addOption(new Option('--rate-audit-ms <ms>').argParser(positiveInt).hideHelp())
    .action(async (options: WorkOptions) => {
      const config = loadConfig('work');
      const logger = createLogger(config, { role: 'work', pid: process.pid });
      await checkEvictionPolicy(config.redisUrl, logger);
      const settings: WorkerSettings = {
        logger,
        resumeChannels: options.resumeChannel,
        ...(options.lockMs ? { lockDurationMs: options.lockMs } : {}),
        ...(options.stalledMs ? { stalledIntervalMs: options.stalledMs } : {}),
        ...(options.backoffMs ? { backoff: { baseMs: options.backoffMs } } : {}),
        ...(options.fanoutPageSize ? { fanoutPageSize: options.fanoutPageSize } : {}),
        ...(options.replanMs ? { replanEveryMs: options.replanMs } : {}),
        ...(options.rateAuditMs ? { rateAuditMs: options.rateAuditMs } : {}),
      };
      const running = await startWorkers(config, settings);
      const metrics =
        options.metricsPort === undefined
          ? undefined
          : await startMetricsServer(options.metricsPort, options.metricsHost);
      if (metrics)
        logger.info(
          { port: metrics.port },
          `metrics at http://${options.metricsHost}:${metrics.port}/metrics`,
        );
      logger.info(
        {
          database: redactUrl(config.databaseUrl),
          redis: redactUrl(config.redisUrl),
          prefix: config.queuePrefix,
          channels: running.channels,
          whatsappRate: running.whatsappRate.rate,
          whatsappRateFrom: running.whatsappRate.source,
          emailRate: config.rates.email,
          tzVersion: tzDataVersion(),
        },
        running.channels.length === 0
          ? 'working (no channel configured: set WHATSAPP_TOKEN… or SMTP_URL to send; slots are still fanned out)'
          : `working: sending on ${running.channels.join(' and ')}`,
      );
      await new Promise<void>((resolve) => {
        onShutdownSignal(async (signal) => {
          logger.info({ signal }, 'stopping: no new jobs, waiting for the ones in flight');
          const how = await running.close(options.shutdownMs);
          await metrics?.close();
          logger.info({ how }, 'stopped');
          resolve();
        });
      });
    });
}

/** BullMQ loses jobs silently if Redis evicts keys: say so loudly, but keep going. */
async function checkEvictionPolicy(url: string, logger: Logger): Promise<void> {
  const redis = new Redis(url, { maxRetriesPerRequest: 1, lazyConnect: true });
  try {
    await redis.connect();
    const reply = (await redis.config('GET', 'maxmemory-policy')) as string[];
    const policy = reply[1];
    if (policy !== undefined && policy !== 'noeviction')
      logger.warn(
        { policy },
        `Redis maxmemory-policy is "${policy}": set it to "noeviction" (redis-server --maxmemory-policy noeviction), ` +
          'or Redis may drop queued jobs under memory pressure (PostgreSQL keeps the record, but reminders would be late)',
      );
  } catch (error) {
    // Managed Redis often refuses CONFIG; BullMQ checks the policy itself too.
    logger.debug({ err: error }, 'cannot read Redis maxmemory-policy');
  } finally {
    redis.disconnect();
  }
}
