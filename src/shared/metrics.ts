// Process-wide Prometheus counters and histograms, in Lastcall's own registry (never prom-client's
// global one). Services increment them where things happen; `serve` exposes this registry at
// GET /metrics together with gauges it computes at scrape time (src/http/metrics.ts). Labels are
// small closed sets (channels, outcomes, webhook fields): never an id, a phone or an address.
import { Counter, collectDefaultMetrics, Histogram, Registry } from 'prom-client';

export const metricsRegistry = new Registry();

/** Every send attempt's outcome: sent, retry, deferred, failed, skipped, unknown, … */
export const sendsTotal = new Counter({
  name: 'lastcall_sends_total',
  help: 'Send attempts by channel and outcome',
  labelNames: ['channel', 'outcome'] as const,
  registers: [metricsRegistry],
});

/** WhatsApp deliveries held back by Meta's portfolio messaging limit (skipped, messaging-limit). */
export const messagingLimitHeldTotal = new Counter({
  name: 'lastcall_whatsapp_messaging_limit_held_total',
  help: "WhatsApp deliveries held back by the portfolio's messaging limit (skipped, reason messaging-limit)",
  registers: [metricsRegistry],
});

/** Mail received at reminders' return paths (docs/operations.md, "Bounces and complaints"), by
 *  kind (bounce, complaint, none) and what it counted as (bounced, soft-bounced, complained,
 *  ignored, unknown-delivery). */
export const mailReportsTotal = new Counter({
  name: 'lastcall_mail_reports_total',
  help: 'Delivery status notifications and feedback reports received, by kind and outcome',
  labelNames: ['kind', 'outcome'] as const,
  registers: [metricsRegistry],
});

/** How long a provider call took (Graph API, SMTP). */
export const sendDurationSeconds = new Histogram({
  name: 'lastcall_send_duration_seconds',
  help: 'Duration of provider calls by channel',
  labelNames: ['channel'] as const,
  buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
  registers: [metricsRegistry],
});

/** POST /webhooks/whatsapp answers: accepted, duplicate, unsigned, bad_signature, malformed, unavailable. */
export const webhookRequestsTotal = new Counter({
  name: 'lastcall_webhook_requests_total',
  help: 'WhatsApp webhook POSTs by result',
  labelNames: ['result'] as const,
  registers: [metricsRegistry],
});

/** Changes in accepted webhook bodies, by `changes[].field`. */
export const webhookChangesTotal = new Counter({
  name: 'lastcall_webhook_changes_total',
  help: 'Changes received in accepted WhatsApp webhooks by field',
  labelNames: ['field'] as const,
  registers: [metricsRegistry],
});

/** Processed webhook items: kind (status, inbound, preference, template, error, ignored) and outcome. */
export const webhookItemsTotal = new Counter({
  name: 'lastcall_webhook_items_total',
  help: 'Processed WhatsApp webhook items by kind and outcome',
  labelNames: ['kind', 'outcome'] as const,
  registers: [metricsRegistry],
});

export const httpRequestDurationSeconds = new Histogram({
  name: 'lastcall_http_request_duration_seconds',
  help: 'HTTP request duration by method, route pattern and status code',
  labelNames: ['method', 'route', 'status_code'] as const,
  buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
  registers: [metricsRegistry],
});

let defaultsOn = false;

/** Process metrics (CPU, memory, event loop, GC) in the same registry; once per process. */
export function enableDefaultMetrics(): void {
  if (defaultsOn) return;
  defaultsOn = true;
  collectDefaultMetrics({ register: metricsRegistry, prefix: 'lastcall_' });
}
