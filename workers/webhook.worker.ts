// Webhook worker wiring: one job per stored WhatsApp webhook body (job id webhook-<eventId>).
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
