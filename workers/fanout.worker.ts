// Fan-out worker wiring: one job per due slot (job id slot-<id>).
import { type Job, UnrecoverableError } from 'bullmq';
import type { FanoutResult } from '../src/delivery/fanout.service.ts';
import { type FanoutPayload, parsePayload } from '../src/queue/catalog.ts';

export function fanoutProcessor(fanOut: (slotId: number) => Promise<FanoutResult>) {
  return async (job: Job<FanoutPayload>): Promise<FanoutResult> => {
    const payload = parsePayload('fanout', job.data);
    if (!payload.ok) throw new UnrecoverableError(`bad fan-out payload: ${payload.reason}`);
    return fanOut(payload.value.slotId);
  };
}
