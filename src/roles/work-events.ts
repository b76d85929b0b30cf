// The `events` queue's worker, part of the `work` role when EVENTS_URL and EVENTS_SECRET are set:
// a drain loop moves outbox rows into the queue (every `drainEveryMs`, and at once after a full
// batch), the worker POSTs each event (event-delivery.service.ts via workers/events.worker.ts).
// A sweep every minute queues again what Redis lost and prunes old delivered events. The
// receiver's failures never hold a worker: each POST is bounded by a timeout and a refused event
// waits in `delayed`, not `active`.
import { Worker } from 'bullmq';
import { eventsProcessor } from '../../workers/events.worker.ts';
import type { Config } from '../config/config.ts';
import { type BackoffOptions, backoffDelay } from '../delivery/backoff.ts';
import { deliverEvent } from '../events/event-delivery.service.ts';
import { drainOutbox, pruneEvents, requeueStale } from '../events/outbox-drainer.ts';
import { EVENT_BACKOFF_STRATEGY, jobIdOf, jobs, QUEUES } from '../queue/catalog.ts';
import type { QueueSet, RedisConnection } from '../queue/connection.ts';
import type { Clock } from '../shared/clock.ts';
import type { Logger } from '../shared/logger.ts';
import type { Db } from '../store/pool.ts';

export interface EventsWorkerSettings {
  readonly db: Db;
  readonly queues: QueueSet;
  readonly connection: RedisConnection;
  readonly logger: Logger;
  readonly clock: Clock;
  readonly concurrency?: number;
  readonly drainEveryMs?: number;
  readonly sweepEveryMs?: number;
  /** Retry waits (default 1 s doubling, at most 10 minutes, half jitter). */
  readonly backoff?: Partial<BackoffOptions>;
  /** How long an event waiting for an earlier one sleeps before looking again (default 30 s). */
  readonly waitMs?: number;
  readonly postTimeoutMs?: number;
}

export function startEventsWorker(target: NonNullable<Config['events']>, deps: EventsWorkerSettings): Worker {
  const { db, clock } = deps;
  const log = deps.logger.child({ component: 'events' });
  const queue = deps.queues.get(QUEUES.events);
  const backoff: BackoffOptions = { ...jobs.event.retry, ...deps.backoff };
  const worker = new Worker(
    QUEUES.events,
    eventsProcessor({
      deliver: (seq) =>
        deliverEvent(
          { db, target, clock, ...(deps.postTimeoutMs ? { timeoutMs: deps.postTimeoutMs } : {}) },
          seq,
        ),
      wake: async ({ seq, round }) => {
        const job = await queue.getJob(jobIdOf('event', { seq, round }));
        if (job && (await job.isDelayed())) await job.promote().catch(() => undefined);
      },
      waitMs: deps.waitMs ?? 30_000,
    }),
    {
      connection: deps.connection,
      prefix: deps.queues.prefixOf(QUEUES.events),
      concurrency: deps.concurrency ?? 10,
      settings: {
        backoffStrategy: (attemptsMade, type) => {
          if (type !== EVENT_BACKOFF_STRATEGY) throw new Error(`unknown backoff strategy "${type}"`);
          return backoffDelay(backoff, attemptsMade, undefined);
        },
      },
    },
  );
  worker.on('failed', (job, err) =>
    log.info({ jobId: job?.id, attempts: job?.attemptsMade, reason: err.message }, 'event refused'),
  );

  let draining = false;
  const drain = async () => {
    if (draining) return;
    draining = true;
    try {
      while ((await drainOutbox(db, queue, clock.now())) > 0) {}
    } finally {
      draining = false;
    }
  };
  const sweep = async () => {
    const now = clock.now();
    const requeued = await requeueStale(db, queue, now - 10 * 60_000);
    const pruned = await pruneEvents(db, now);
    if (requeued > 0 || pruned > 0) log.info({ requeued, pruned }, 'events sweep');
  };
  const drainTimer = setInterval(
    () => void drain().catch((err) => log.warn({ err: err.message }, 'events drain failed')),
    deps.drainEveryMs ?? 1_000,
  );
  const sweepTimer = setInterval(
    () => void sweep().catch((err) => log.warn({ err: err.message }, 'events sweep failed')),
    deps.sweepEveryMs ?? 60_000,
  );
  drainTimer.unref();
  sweepTimer.unref();
  worker.on('closing', () => {
    clearInterval(drainTimer);
    clearInterval(sweepTimer);
  });
  return worker;
}
