// Send worker wiring. Both jobs go through the one send path (src/delivery/send.service.ts). A
// `send-batch` job (a page of deliveries): parse, hand the page over; the service settles every
// message itself. A `send` job (one delivery, a retry or a hand-back: a page of one): parse,
// hand it over, turn the decision it gives back into BullMQ's vocabulary (retry with our
// backoff, queue-wide rate limit, delay, unrecoverable). The service has already held the queue
// for a throttle and paused the channel for a channel down.
import { DelayedError, type Job, RateLimitError, UnrecoverableError } from 'bullmq';
import type { AttemptBudget, PageReport, SendDecision } from '../src/delivery/send.service.ts';
import { jobs, parsePayload, type SendBatchPayload, type SendPayload } from '../src/queue/catalog.ts';

/** Thrown for a transient failure; the worker's backoff strategy waits `delayMs`. */
export class RetryLaterError extends Error {
  readonly delayMs: number;
  constructor(code: string, delayMs: number) {
    super(`transient failure (${code}): retrying in ${delayMs} ms`);
    this.name = 'RetryLaterError';
    this.delayMs = delayMs;
  }
}

export interface SendWorkerDeps {
  send(deliveryId: number, budget: AttemptBudget): Promise<SendDecision>;
  sendPage(jobId: string, deliveryIds: readonly number[]): Promise<PageReport>;
  /** How long a job waits in delayed while its channel is down (real milliseconds). */
  readonly channelDownDelayMs: number;
}

export function sendProcessor(deps: SendWorkerDeps) {
  return async (job: Job<SendPayload | SendBatchPayload>, token?: string): Promise<string | PageReport> => {
    if (job.name === jobs.sendBatch.name) {
      const page = parsePayload('sendBatch', job.data);
      if (!page.ok) throw new UnrecoverableError(`bad send-batch payload: ${page.reason}`);
      const report = await deps.sendPage(job.id ?? '', page.value.deliveryIds);
      if (report.databaseWaitMs !== undefined) {
        // PostgreSQL did not answer the claim: wait without spending one of the page's attempts.
        await job.moveToDelayed(Date.now() + report.databaseWaitMs, token);
        throw new DelayedError();
      }
      return report;
    }
    const payload = parsePayload('send', job.data);
    if (!payload.ok) throw new UnrecoverableError(`bad send payload: ${payload.reason}`);
    const decision = await deps.send(payload.value.deliveryId, {
      // Attempts spent in a batch before this job took the delivery over count too.
      attemptsMade: (payload.value.priorAttempts ?? 0) + job.attemptsMade,
      maxAttempts: job.opts.attempts ?? 1,
    });
    switch (decision.action) {
      case 'complete':
        return decision.status;
      case 'retry':
        throw new RetryLaterError(decision.code, decision.delayMs);
      case 'throttle-queue':
        throw new RateLimitError();
      case 'delay':
        await job.moveToDelayed(Date.now() + decision.delayMs, token);
        throw new DelayedError();
      case 'fail':
        throw new UnrecoverableError(`delivery failed: ${decision.code}`);
      case 'channel-down':
        await job.moveToDelayed(Date.now() + deps.channelDownDelayMs, token);
        throw new DelayedError();
    }
  };
}
