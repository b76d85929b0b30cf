// `startWorkers`: everything `lastcall work` runs in one process: the tick (a BullMQ job
// scheduler every minute on its own queue), the fan-out worker, one send worker per enabled
// channel (each send queue with a BullMQ limiter, plus the rate gate at the provider call, both
// held across all workers together) and the webhooks worker.
// Tests pass a ManualClock, small delays and `scheduleTick: false`, and drive `runTick` themselves.
import { type Job, Worker, type WorkerOptions } from 'bullmq';
import { fanoutProcessor } from '../../workers/fanout.worker.ts';
import { RetryLaterError, sendProcessor } from '../../workers/send.worker.ts';
import { tickProcessor } from '../../workers/tick.worker.ts';
import type { CampaignReplan } from '../campaigns/replan.service.ts';
import type { WorkConfig } from '../config/config.ts';
import { type BackoffOptions, backoffDelay } from '../delivery/backoff.ts';
import { markChannelDown, reviewChannel } from '../delivery/channel-guard.ts';
import { type ChannelSet, type ChannelTimeouts, createChannelSenders } from '../delivery/channel-senders.ts';
import { fanOut } from '../delivery/fanout.service.ts';
import { providerOutageLog } from '../delivery/provider-outage.ts';
import { createRateGate } from '../delivery/rate-gate.ts';
import type { RecoveryOptions } from '../delivery/recovery.ts';
import { DeliveryRenderer } from '../delivery/render.ts';
import { type SendDeps, sendDelivery, sendPage } from '../delivery/send.service.ts';
import { runTick, type TickReport } from '../delivery/tick.service.ts';
import {
  storeThroughputLevel,
  THROUGHPUT_RATES,
  watchWhatsAppAccount,
  whatsappRateInForce,
} from '../delivery/whatsapp-account.service.ts';
import { pruneEvents } from '../events/outbox-drainer.ts';
import { jobs, QUEUES, SEND_BACKOFF_STRATEGY, sendBatchSize, sendQueueFor } from '../queue/catalog.ts';
import { createWorkerConnection, QueueSet } from '../queue/connection.ts';
import { rateGateKey } from '../queue/keys.ts';
import { closeWorkers } from '../queue/shutdown.ts';
import { type Clock, systemClock } from '../shared/clock.ts';
import { createLogger, type Logger } from '../shared/logger.ts';
import type { Channel } from '../shared/vocabulary.ts';
import { watchDatabase } from '../store/outage.ts';
import { type Db, openDb } from '../store/pool.ts';
import { createServices } from './services.ts';
import { type EventsWorkerSettings, startEventsWorker } from './work-events.ts';
import { startTzWatch } from './work-tz.ts';
import { startWebhookWorker } from './work-webhooks.ts';

export interface WorkerSettings {
  readonly clock?: Clock;
  readonly logger?: Logger;
  /** Channel adapters; default: built from the config (the ones configured). */
  readonly channels?: ChannelSet;
  /** Timeouts of the adapters built from the config. */
  readonly timeouts?: ChannelTimeouts;
  /** Upsert the every-minute tick scheduler (default true; tests drive ticks themselves). */
  readonly scheduleTick?: boolean;
  readonly tickEveryMs?: number;
  readonly backoff?: Partial<BackoffOptions>;
  readonly recovery?: Partial<RecoveryOptions>;
  /** Provider calls in flight per process on each channel (default 50 WhatsApp, 10 email),
   *  and fan-out jobs at once (4). A send worker runs enough pages at once to reach it. */
  readonly concurrency?: { readonly whatsapp?: number; readonly email?: number; readonly fanout?: number };
  /** BullMQ lock duration (default 30 s): how soon a dead worker's jobs are taken over. */
  readonly lockDurationMs?: number;
  readonly stalledIntervalMs?: number;
  readonly fanoutPageSize?: number;
  /** How long the rate gates keep admitted calls in their audit log (default 10 s; tests). */
  readonly rateAuditMs?: number;
  /** Resume these channels even if they were stopped with the same credentials. */
  readonly resumeChannels?: readonly Channel[];
  /** Delay (real ms) of a job whose channel went down, before it is looked at again. */
  readonly channelDownDelayMs?: number;
  readonly poolSize?: number;
  /** Run the webhooks queue's worker too (default true). */
  readonly webhooks?: boolean;
  /** How often to re-plan slots planned with older tz data (default: the tick's period, or never
   *  after the start when `scheduleTick` is false; tests call `replan`). */
  readonly replanEveryMs?: number;
  /** Settings of the events worker (on when EVENTS_URL is set). */
  readonly events?: Partial<Omit<EventsWorkerSettings, 'db' | 'queues' | 'connection' | 'logger' | 'clock'>>;
}

export interface RunningWorkers {
  readonly db: Db;
  readonly queues: QueueSet;
  readonly workers: readonly Worker[];
  readonly channels: readonly Channel[];
  /** The WhatsApp rate in force, all workers together, and where it comes from. */
  readonly whatsappRate: {
    readonly rate: number;
    readonly source: 'WHATSAPP_RATE' | 'throughput' | 'default';
  };
  /** One tick now (or at `now`): what the scheduler does every minute. */
  runTick(now?: number): Promise<TickReport>;
  /** One tz-data re-plan pass now (or at `now`): what the process does at start and every minute. */
  replan(now?: number): Promise<CampaignReplan[]>;
  /** Stops taking work, waits up to `timeoutMs` for jobs in flight, closes everything. */
  close(timeoutMs?: number): Promise<'graceful' | 'forced'>;
}

export async function startWorkers(
  config: WorkConfig,
  settings: WorkerSettings = {},
): Promise<RunningWorkers> {
  const clock = settings.clock ?? systemClock;
  const logger = settings.logger ?? createLogger(config, { role: 'work' });
  // A PostgreSQL outage is logged once (outage.ts); jobs wait it out (send.service, BullMQ retries).
  const db = openDb(config, { max: settings.poolSize ?? 20, watch: watchDatabase(logger) });
  const queues = new QueueSet(config);
  const connection = createWorkerConnection(config);
  const services = createServices({ config, db, queues, clock, logger });
  // Before any job is taken: slots planned with older tz data get their new instants first.
  const tzWatch = await startTzWatch({
    db,
    logger,
    clock,
    replans: services.replans,
    everyMs:
      settings.replanEveryMs ??
      ((settings.scheduleTick ?? true) ? (settings.tickEveryMs ?? jobs.tick.scheduler.everyMs) : 0),
  });
  const channels = settings.channels ?? createChannelSenders(config, settings.timeouts);
  const backoff: BackoffOptions = { ...jobs.send.retry, ...settings.backoff };
  // WHATSAPP_RATE, else the number's throughput level as the Graph API gives it (docs/whatsapp.md).
  // Changed while running when Meta changes the level (below: the account watch).
  let whatsappRate = await whatsappRateInForce(
    { db, account: channels.whatsappAccount, logger },
    { rate: config.rates.whatsapp, set: config.whatsappRateSet },
    clock.now(),
  );
  const rateOf = (channel: Channel) => (channel === 'whatsapp' ? whatsappRate.rate : config.rates[channel]);
  const batchSize = (channel: Channel) => sendBatchSize(rateOf(channel));
  const tickDeps = {
    db,
    queues,
    logger,
    batchSize,
    ...(settings.recovery ? { recovery: settings.recovery } : {}),
  };
  const base: Omit<WorkerOptions, 'prefix'> = {
    connection,
    ...(settings.lockDurationMs ? { lockDuration: settings.lockDurationMs } : {}),
    ...(settings.stalledIntervalMs ? { stalledInterval: settings.stalledIntervalMs } : {}),
  };
  const workers: Worker[] = [];
  const watch = (worker: Worker) => {
    worker.on('error', (err) => logger.error({ err, queue: worker.name }, 'worker error'));
    worker.on('failed', (job: Job | undefined, err) =>
      logger.debug({ queue: worker.name, jobId: job?.id, err: err.message }, 'job failed'),
    );
    // A job whose lock ran out (its worker starved of CPU, or gone) goes back to the queue: worth
    // an operator's eye, as a page may then wait for recovery (docs/delivery.md, crash rules).
    worker.on('stalled', (jobId: string) =>
      logger.warn({ queue: worker.name, jobId }, 'job stalled: its lock expired, it goes back to the queue'),
    );
    workers.push(worker);
  };

  const tick = (now?: number) => runTick(tickDeps, now ?? clock.now());
  watch(
    new Worker(
      QUEUES.tick,
      tickProcessor(async () => {
        await tzWatch.beforeTick();
        return tick();
      }),
      { ...base, prefix: queues.prefixOf(QUEUES.tick), concurrency: 1 },
    ),
  );
  watch(
    new Worker(
      QUEUES.fanout,
      fanoutProcessor((slotId) =>
        fanOut(
          {
            db,
            queues,
            logger,
            batchSize,
            ...(settings.fanoutPageSize ? { pageSize: settings.fanoutPageSize } : {}),
          },
          slotId,
          clock.now(),
        ),
      ),
      { ...base, prefix: queues.prefixOf(QUEUES.fanout), concurrency: settings.concurrency?.fanout ?? 4 },
    ),
  );

  const renderer = new DeliveryRenderer({
    publicUrl: config.publicUrl,
    secretKey: config.secretKey,
    mailFrom: config.email?.from,
    unsubscribeMailbox: config.unsubscribeSmtp?.mailbox,
    returnPathDomain: config.unsubscribeSmtp?.returnPathDomain,
  });
  // At most a few seconds: a slow SMTP server must not hold the whole worker back.
  const problems = await Promise.race([
    channels.check(),
    new Promise<[]>((r) => setTimeout(() => r([]), 3_000).unref()),
  ]);
  for (const { channel, problem } of problems)
    logger.warn({ channel, problem }, `${channel} check failed at start: sends on it may fail`);
  const outages = providerOutageLog(logger);
  const gates = Object.fromEntries(
    channels.enabled.map((c) => [
      c,
      createRateGate(
        queues.connection,
        rateGateKey(config.queuePrefix, c),
        rateOf(c),
        settings.rateAuditMs ? { auditMs: settings.rateAuditMs } : {},
      ),
    ]),
  );
  // The rate in force is kept in Redis with the gate, shared by every worker: this one's wins
  // at its start (a WHATSAPP_RATE or a level read just now).
  for (const c of channels.enabled) await gates[c]?.setRate(rateOf(c));
  const channelDownDelayMs = settings.channelDownDelayMs ?? 60_000;
  for (const channel of channels.enabled) {
    const rate = rateOf(channel);
    await reviewChannel(
      queues,
      channel,
      channels.credentials[channel] ?? '',
      settings.resumeChannels?.includes(channel) ?? false,
      logger,
    );
    const sendDeps: SendDeps = {
      db,
      logger,
      renderer,
      gates,
      clock,
      channels: channels.senders,
      backoff: (retry: number, retryAfterMs: number | undefined) =>
        backoffDelay(backoff, retry, retryAfterMs),
      outages,
      queues,
      channelDown: (code: string, detail: string) =>
        markChannelDown(
          queues,
          channel,
          {
            code,
            detail,
            at: new Date(clock.now()).toISOString(),
            credentials: channels.credentials[channel] ?? '',
          },
          logger,
        ),
      channelDownDelayMs,
      maxAttempts: jobs.send.options.attempts,
      messagingLimit: { override: config.whatsappMessagingLimit },
    };
    const processor = sendProcessor({
      send: (deliveryId, budget) => sendDelivery(sendDeps, deliveryId, clock.now(), budget),
      sendPage: (jobId, deliveryIds) => sendPage(sendDeps, jobId, deliveryIds, clock.now()),
      channelDownDelayMs,
    });
    const inFlight = settings.concurrency?.[channel] ?? (channel === 'whatsapp' ? 50 : 10);
    watch(
      new Worker(sendQueueFor(channel), processor, {
        ...base,
        prefix: queues.prefixOf(sendQueueFor(channel)),
        // Pages at once: about `inFlight` calls (no more than a second of the rate: a claimed
        // row waits at the gate, and a kill then leaves it `unknown`), plus one page being
        // claimed or recorded.
        concurrency: Math.ceil(Math.min(inFlight, rate) / batchSize(channel)) + 1,
        limiter: { max: Math.max(1, Math.floor(rate)), duration: 1000 },
        settings: {
          // The catalog's `delivery` strategy (jobs.send): the provider's Retry-After rides on the error.
          backoffStrategy: (attemptsMade, type, err) => {
            if (type !== SEND_BACKOFF_STRATEGY) throw new Error(`unknown backoff strategy "${type}"`);
            return err instanceof RetryLaterError
              ? err.delayMs
              : backoffDelay(backoff, attemptsMade, undefined);
          },
        },
      }),
    );
  }

  // Meta's messaging limit (unless WHATSAPP_MESSAGING_LIMIT is set) and the number's throughput
  // level (unless WHATSAPP_RATE is set), read every hour and after a phone_number_quality_update.
  // A new level's rate goes to the rate gate in Redis: every running worker sends at it at once.
  const onThroughput = async (level: string) => {
    await storeThroughputLevel(db, level, clock.now());
    const rate = THROUGHPUT_RATES[level];
    if (rate === undefined) {
      logger.warn({ level }, 'WhatsApp throughput level not understood: rate kept');
      return;
    }
    if (rate !== whatsappRate.rate)
      logger.info({ level, rate }, 'WhatsApp rate follows the new throughput level');
    whatsappRate = { rate, source: 'throughput' };
    await gates.whatsapp?.setRate(rate);
  };
  const readLimit = config.whatsappMessagingLimit === undefined;
  const accountWatch =
    channels.whatsappAccount && (readLimit || !config.whatsappRateSet)
      ? watchWhatsAppAccount({
          db,
          account: channels.whatsappAccount,
          logger,
          now: () => clock.now(),
          readLimit,
          onThroughput: config.whatsappRateSet ? undefined : onThroughput,
        })
      : undefined;

  // Verified WhatsApp webhook batches, stored by `serve`, processed here (work-webhooks.ts).
  if (settings.webhooks ?? true)
    watch(
      startWebhookWorker(config, {
        db,
        queues,
        connection,
        logger,
        clock,
        subscriptions: services.subscriptions,
        ...(accountWatch
          ? { onQualityUpdate: () => void accountWatch.refresh({ throughputOnly: true }) }
          : {}),
      }),
    );
  // Outbound events, when EVENTS_URL is set (work-events.ts); else old unsent ones are pruned.
  let eventsPrune: NodeJS.Timeout | undefined;
  if (config.events)
    watch(startEventsWorker(config.events, { db, queues, connection, logger, clock, ...settings.events }));
  else {
    eventsPrune = setInterval(() => {
      pruneEvents(db, clock.now(), true).catch((err) =>
        logger.warn({ err: err.message }, 'events prune failed'),
      );
    }, 3600_000);
    eventsPrune.unref();
  }

  let watchdog: NodeJS.Timeout | undefined;
  if (settings.scheduleTick ?? true) {
    const every = settings.tickEveryMs ?? jobs.tick.scheduler.everyMs;
    await ensureTickScheduler(queues, every);
    // Redis may lose the scheduler (restart without persistence, FLUSHALL): put it back.
    watchdog = setInterval(() => {
      ensureTickScheduler(queues, every).catch((err) =>
        logger.warn({ err }, 'cannot check the tick scheduler'),
      );
    }, every);
    watchdog.unref();
  }
  logger.debug({ channels: channels.enabled, prefix: config.queuePrefix }, 'workers started');

  return {
    db,
    queues,
    workers,
    channels: channels.enabled,
    whatsappRate,
    runTick: tick,
    replan: tzWatch.replan,
    async close(timeoutMs = 25_000) {
      clearInterval(watchdog);
      accountWatch?.stop();
      await tzWatch.close();
      clearInterval(eventsPrune);
      const result = await closeWorkers(workers, timeoutMs);
      await channels.close();
      await services.close();
      await queues.close();
      await connection.quit().catch(() => connection.disconnect());
      await db.close();
      return result;
    },
  };
}

/** Creates the tick scheduler if it is missing (upserting only then avoids BullMQ's races
 *  between replicas upserting at once; a duplicate tick would be harmless anyway). */
async function ensureTickScheduler(queues: QueueSet, every: number): Promise<void> {
  const { queue: name, scheduler, options } = jobs.tick;
  const queue = queues.get(name);
  const existing = await queue.getJobScheduler(scheduler.id);
  if (existing && existing.every === every) return;
  await queue.upsertJobScheduler(scheduler.id, { every }, { name: jobs.tick.name, data: {}, opts: options });
}
