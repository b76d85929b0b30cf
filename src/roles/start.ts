// `serve` and `work` in one process, for `lastcall start` (npm start) and `lastcall demo`: the
// HTTP server wired as `lastcall serve` wires it (subscriptions planning joiners, the queues for
// the webhook, health, metrics and board routes) and the workers from `startWorkers`. They take
// a Config rather than reading the environment, so the demo can point WhatsApp at its sandbox.
// If one role fails to start, the other is stopped before the error is thrown.
import type { ServeConfig } from '../config/config.ts';
import type { Clock } from '../shared/clock.ts';
import type { Logger } from '../shared/logger.ts';
import { type HttpService, startHttpService } from './serve.ts';
import { type RunningWorkers, startWorkers, type WorkerSettings } from './work.ts';

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

export async function startAllInOne(config: ServeConfig, opts: AllInOneOptions): Promise<AllInOne> {
  const workers = await startWorkers(config, {
    logger: opts.logger.child({ role: 'work' }),
    ...(opts.clock ? { clock: opts.clock } : {}),
    ...opts.workers,
  });
  let http: HttpService;
  try {
    http = await startHttpService(config, { ...opts, logger: opts.logger.child({ role: 'serve' }) });
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
