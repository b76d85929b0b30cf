// Send worker wiring: parse the payload, ask the send service, turn its decision into BullMQ's
// vocabulary (retry with our backoff, queue-wide rate limit, delay, unrecoverable, pause).
import { DelayedError, type Job, type Queue, RateLimitError, UnrecoverableError } from 'bullmq';
import type { AttemptBudget, SendDecision } from '../src/delivery/send.service.ts';
import { parsePayload, type SendPayload } from '../src/queue/catalog.ts';

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
  readonly queue: Queue;
  send(deliveryId: number, budget: AttemptBudget): Promise<SendDecision>;
  channelDown(code: string, detail: string): Promise<void>;
  /** How long a job waits in delayed while its channel is down (real milliseconds). */
  readonly channelDownDelayMs: number;
}

export function sendProcessor(deps: SendWorkerDeps) {
  return async (job: Job<SendPayload>, token?: string): Promise<string> => {
    const payload = parsePayload('send', job.data);
    if (!payload.ok) throw new UnrecoverableError(`bad send payload: ${payload.reason}`);
    const decision = await deps.send(payload.value.deliveryId, {
      attemptsMade: job.attemptsMade,
      maxAttempts: job.opts.attempts ?? 1,
    });
    switch (decision.action) {
      case 'complete':
        return decision.status;
      case 'retry':
        throw new RetryLaterError(decision.code, decision.delayMs);
      case 'throttle-queue':
        await deps.queue.rateLimit(decision.delayMs);
        throw new RateLimitError();
      case 'delay':
        await job.moveToDelayed(Date.now() + decision.delayMs, token);
        throw new DelayedError();
      case 'fail':
        throw new UnrecoverableError(`delivery failed: ${decision.code}`);
      case 'channel-down':
        await deps.channelDown(decision.code, decision.detail);
        await job.moveToDelayed(Date.now() + deps.channelDownDelayMs, token);
        throw new DelayedError();
    }
  };
}
