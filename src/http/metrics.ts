// GET /metrics (Prometheus text format): the process-wide counters of src/shared/metrics.ts,
// the HTTP request duration of every route, and gauges read at scrape time from the record and
// the queues: deliveries by channel and status (PostgreSQL), jobs by queue and state (BullMQ),
// webhook bodies still to process. A dependency that is down drops its gauges, reports
// `lastcall_metrics_source_up{source} 0`, and never fails the scrape.
// No authentication (docs/operations.md, "Metrics, health and logs"): publish only the public
// routes through the proxy.
import type { JobType } from 'bullmq';
import type { FastifyInstance, FastifyPluginAsync } from 'fastify';
import { Gauge, Registry } from 'prom-client';
import { DELIVERY_STATUSES } from '../campaigns/deliveries.query.ts';
import { QUEUES } from '../queue/catalog.ts';
import type { QueueSet } from '../queue/connection.ts';
import { enableDefaultMetrics, httpRequestDurationSeconds, metricsRegistry } from '../shared/metrics.ts';
import { CHANNELS } from '../shared/vocabulary.ts';
import type { Db } from '../store/pool.ts';
import { bounded } from './routes/health.ts';

export interface MetricsOptions {
  readonly db: Db;
  readonly queues: QueueSet;
  readonly timeoutMs?: number;
}

const JOB_STATES: JobType[] = [
  'waiting',
  'active',
  'delayed',
  'prioritized',
  'waiting-children',
  'failed',
  'completed',
];

/** Times every request of the server (registered with skip-override: its hook is the root's). */
async function httpTiming(app: FastifyInstance): Promise<void> {
  app.addHook('onResponse', async (request, reply) => {
    httpRequestDurationSeconds.observe(
      {
        method: request.method,
        route: request.routeOptions.url ?? 'unmatched',
        status_code: String(reply.statusCode),
      },
      reply.elapsedTime / 1000,
    );
  });
}
export const httpTimingPlugin = Object.assign(httpTiming, { [Symbol.for('skip-override')]: true });

export const metricsRoutes: FastifyPluginAsync<MetricsOptions> = async (app, opts) => {
  enableDefaultMetrics();
  const timeoutMs = opts.timeoutMs ?? 2000;
  // Scrape-time gauges belong to this server (its database and queues), not to the process.
  const registry = new Registry();
  const deliveries = new Gauge({
    name: 'lastcall_deliveries',
    help: 'Deliveries in the record by channel and status',
    labelNames: ['channel', 'status'] as const,
    registers: [registry],
  });
  const jobs = new Gauge({
    name: 'lastcall_queue_jobs',
    help: 'BullMQ jobs by queue and state',
    labelNames: ['queue', 'state'] as const,
    registers: [registry],
  });
  const unprocessed = new Gauge({
    name: 'lastcall_webhook_events_unprocessed',
    help: 'Verified WhatsApp webhook bodies not yet processed',
    registers: [registry],
  });
  const up = new Gauge({
    name: 'lastcall_metrics_source_up',
    help: 'Whether the last scrape could read a source (1) or not (0)',
    labelNames: ['source'] as const,
    registers: [registry],
  });

  async function readPostgres(): Promise<void> {
    const { rows, pending } = await opts.db.tx(async (sql) => {
      await sql.exec(`SET LOCAL statement_timeout = ${Math.ceil(timeoutMs)}`);
      return {
        rows: await sql.query<{ channel: string; status: string; n: number }>(
          `SELECT channel, status, count(*)::int AS n FROM deliveries GROUP BY channel, status`,
        ),
        pending: await sql.one<{ n: number }>(
          `SELECT count(*)::int AS n FROM webhook_events WHERE processed_at IS NULL`,
        ),
      };
    });
    for (const channel of CHANNELS)
      for (const status of DELIVERY_STATUSES) deliveries.set({ channel, status }, 0);
    for (const r of rows) deliveries.set({ channel: r.channel, status: r.status }, r.n);
    unprocessed.set(pending?.n ?? 0);
  }

  async function readQueues(): Promise<void> {
    const counts = await Promise.all(
      Object.values(QUEUES).map(
        async (name) => [name, await opts.queues.get(name).getJobCounts(...JOB_STATES)] as const,
      ),
    );
    for (const [queue, byState] of counts)
      for (const state of JOB_STATES) jobs.set({ queue, state }, byState[state] ?? 0);
  }

  app.get('/metrics', { logLevel: 'warn' }, async (_request, reply) => {
    deliveries.reset();
    jobs.reset();
    unprocessed.reset();
    const [postgres, redis] = await Promise.all([
      bounded(readPostgres, timeoutMs),
      bounded(readQueues, timeoutMs),
    ]);
    up.set({ source: 'postgres' }, postgres === 'ok' ? 1 : 0);
    up.set({ source: 'redis' }, redis === 'ok' ? 1 : 0);
    const text = `${await metricsRegistry.metrics()}\n${await registry.metrics()}`;
    return reply.code(200).type(metricsRegistry.contentType).header('cache-control', 'no-store').send(text);
  });
};
