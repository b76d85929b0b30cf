// Fan-out worker wiring: one job per due slot (job id slot-<id>).
import { DelayedError, type Job, UnrecoverableError } from 'bullmq';
import type { FanoutResult } from '../src/delivery/fanout.service.ts';
import { type FanoutPayload, parsePayload } from '../src/queue/catalog.ts';

export function fanoutProcessor(fanOut: (slotId: number) => Promise<FanoutResult>) {
  return async (job: Job<FanoutPayload>, token?: string): Promise<FanoutResult> => {
    const payload = parsePayload('fanout', job.data);
    if (!payload.ok) throw new UnrecoverableError(`bad fan-out payload: ${payload.reason}`);
    const result = await fanOut(payload.value.slotId);
    if (result.status === 'database-unavailable') {
      // Not now, without spending an attempt.
      await job.moveToDelayed(Date.now() + result.retryInMs, token);
      throw new DelayedError();
    }
    return result;
  };
}
