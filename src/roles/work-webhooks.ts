// The `webhooks` queue's worker, part of the `work` role: a job (`{eventId}`, one per batch of
// bodies `serve` stored) processes every stored event waiting, a page at a time, by
// webhook.service through workers/webhook.worker.ts. A sweep (at start, then every minute) queues again the events still
// unprocessed after a minute (a lost Redis, a failed add) and prunes dedupe keys older than
// Meta's 7-day redelivery window. The sweep stops when the worker closes.
import { Worker } from 'bullmq';
import { webhookProcessor } from '../../workers/webhook.worker.ts';
import type { Config } from '../config/config.ts';
import * as repo from '../inbound/webhook.repository.ts';
import { processWebhookEvent } from '../inbound/webhook.service.ts';
import type { InboundDeps } from '../inbound/webhook-inbound.ts';
import { enqueueWebhooks } from '../inbound/webhook-intake.ts';
import { createWhatsAppReplier, type WhatsAppReplier } from '../inbound/webhook-replies.ts';
import { QUEUES } from '../queue/catalog.ts';
import type { QueueSet, RedisConnection } from '../queue/connection.ts';
import type { Clock } from '../shared/clock.ts';
import type { Logger } from '../shared/logger.ts';
import { isUnreachable } from '../store/connection-error.ts';
import type { Db } from '../store/pool.ts';

export interface WebhookWorkerDeps {
  readonly db: Db;
  readonly queues: QueueSet;
  /** A worker connection (maxRetriesPerRequest: null). */
  readonly connection: RedisConnection;
  readonly logger: Logger;
  readonly clock: Clock;
  /** The process's subscription service (createServices): it plans a resumed subscriber's
   *  reminders. */
  readonly subscriptions: InboundDeps['subscriptions'];
  /** Default: Graph API text replies when WhatsApp is configured, else none. */
  readonly replier?: WhatsAppReplier | null;
  readonly concurrency?: number;
  /** After a `phone_number_quality_update` webhook (work.ts: read the number's limits again). */
  readonly onQualityUpdate?: () => void;
  readonly sweepEveryMs?: number;
  /** An unprocessed event younger than this is left to its own job. Default 60 s. */
  readonly sweepAfterMs?: number;
}

const SWEEP_BATCH = 500;
const KEEP_DEDUPE_MS = 8 * 24 * 3600_000;

export function startWebhookWorker(config: Config, deps: WebhookWorkerDeps): Worker {
  const { db, logger, clock } = deps;
  const log = logger.child({ component: 'webhooks' });
  const { subscriptions } = deps;
  const replier = deps.replier === null ? undefined : (deps.replier ?? defaultReplier(config));
  const serviceDeps = { db, subscriptions, replier, logger: log, onQualityUpdate: deps.onQualityUpdate };

  const worker = new Worker(
    QUEUES.webhooks,
    webhookProcessor((eventId) => processWebhookEvent(serviceDeps, eventId, clock.now())),
    {
      connection: deps.connection,
      prefix: deps.queues.prefixOf(QUEUES.webhooks),
      concurrency: deps.concurrency ?? 4,
    },
  );

  const queue = deps.queues.get(QUEUES.webhooks);
  const sweepAfter = deps.sweepAfterMs ?? 60_000;
  const sweep = async () => {
    const now = clock.now();
    const ids = await repo.unprocessedEventIds(db, new Date(now - sweepAfter), SWEEP_BATCH);
    if (ids.length > 0) await enqueueWebhooks(queue, ids);
    const pruned = await repo.pruneWebhookRecords(db, new Date(now - KEEP_DEDUPE_MS));
    if (ids.length > 0 || pruned > 0) log.info({ requeued: ids.length, pruned }, 'webhook sweep');
  };
  // A PostgreSQL outage is logged once by the pool's watch (store/outage.ts), not every minute here.
  const runSweep = () =>
    void sweep().catch((err) => {
      if (!isUnreachable(err)) log.warn({ err }, 'webhook sweep failed');
    });
  runSweep();
  const timer = setInterval(runSweep, deps.sweepEveryMs ?? 60_000);
  timer.unref();
  worker.on('closing', () => clearInterval(timer));
  return worker;
}

function defaultReplier(config: Config): WhatsAppReplier | undefined {
  return config.whatsapp ? createWhatsAppReplier(config.whatsapp, config.graphApi) : undefined;
}
