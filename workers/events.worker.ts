// Events worker wiring: parse the payload, ask the event delivery service, turn its outcome into
// BullMQ's vocabulary: a refusal throws (retried with the queue's backoff), an event waiting for
// an earlier one of its subscriber is delayed, a delivered one promotes the next.
import { DelayedError, type Job, UnrecoverableError } from 'bullmq';
import type { EventOutcome } from '../src/events/event-delivery.service.ts';
import { type EventPayload, parsePayload } from '../src/queue/catalog.ts';

export interface EventsWorkerDeps {
  deliver(seq: number): Promise<EventOutcome>;
  /** Wakes the job of the next event of the same subscriber, if it is waiting. */
  wake(next: { seq: number; round: number }): Promise<void>;
  /** How long a waiting event sleeps before it looks again (real ms); woken sooner by `wake`. */
  readonly waitMs: number;
}

export function eventsProcessor(deps: EventsWorkerDeps) {
  return async (job: Job<EventPayload>, token?: string): Promise<string> => {
    const payload = parsePayload('event', job.data);
    if (!payload.ok) throw new UnrecoverableError(`bad event payload: ${payload.reason}`);
    const result = await deps.deliver(payload.value.seq);
    if (result.outcome === 'waiting') {
      await job.moveToDelayed(Date.now() + deps.waitMs, token);
      throw new DelayedError();
    }
    if ((result.outcome === 'delivered' || result.outcome === 'gave-up') && result.next)
      await deps.wake(result.next);
    return result.outcome;
  };
}
