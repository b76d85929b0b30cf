// `lastcall work --metrics-port N`: this process's own counters (sends by channel and outcome,
// provider call durations, webhook items, process CPU, memory and event loop) at
// GET http://…:N/metrics, for Prometheus to scrape each worker copy. The gauges read from
// PostgreSQL and Redis (deliveries by status, queue depths) stay on `serve`'s /metrics: they are
// the same for every process, so one scrape of them is enough.
import Fastify from 'fastify';
import { enableDefaultMetrics, metricsRegistry } from '../shared/metrics.ts';

export interface MetricsServer {
  /** The port it listens on (the one asked for, or the one the system chose for 0). */
  readonly port: number;
  close(): Promise<void>;
}

export async function startMetricsServer(port: number, host: string): Promise<MetricsServer> {
  enableDefaultMetrics();
  const app = Fastify({ logger: false });
  app.get('/metrics', async (_request, reply) =>
    reply
      .type(metricsRegistry.contentType)
      .header('cache-control', 'no-store')
      .send(await metricsRegistry.metrics()),
  );
  app.get('/healthz', async () => ({ status: 'ok' }));
  await app.listen({ port, host });
  const address = app.server.address();
  return {
    port: typeof address === 'object' && address !== null ? address.port : port,
    close: () => app.close(),
  };
}
