// Webhook worker wiring: a job names a stored WhatsApp webhook body (job id webhook-<eventId>)
// and processes it with every other body waiting (webhook.service.ts).
import { type Job, UnrecoverableError } from 'bullmq';
import type { WebhookReport } from '../src/inbound/webhook.service.ts';
import { parsePayload, type WebhookPayload } from '../src/queue/catalog.ts';

export function webhookProcessor(process: (eventId: number) => Promise<WebhookReport>) {
  return async (job: Job<WebhookPayload>): Promise<WebhookReport> => {
    const payload = parsePayload('webhook', job.data);
    if (!payload.ok) throw new UnrecoverableError(`bad webhook payload: ${payload.reason}`);
    return process(payload.value.eventId);
  };
}
