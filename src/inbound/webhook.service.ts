// Processing of a stored WhatsApp webhook (the `webhooks` queue's job, `{eventId}`): walk every
// entry, change, status and message (webhook-payload.ts), apply each, then drop the payload.
// Every step is idempotent (statuses are monotonic, inbound messages are keyed by their id,
// consent switches and "done" only change what is not already so), so a retried job that had
// got half-way does no harm. The event row stays locked while it is processed.
import { recordDeliveryEvent } from '../events/outbox.ts';
import { webhookItemsTotal } from '../shared/metrics.ts';
import type { Db, Sql } from '../store/pool.ts';
import { endChannelForProviderError } from '../subscribers/bounce.service.ts';
import * as repo from './webhook.repository.ts';
import {
  handleIdentityChange,
  handleInbound,
  handlePreference,
  type InboundDeps,
} from './webhook-inbound.ts';
import { type StatusItem, type WebhookItem, webhookItems } from './webhook-payload.ts';
import { applyStatus, isReportedStatus } from './webhook-status.ts';

export type WebhookDeps = InboundDeps;

export interface WebhookReport {
  /** False when the event was already processed (or is being processed elsewhere). */
  readonly processed: boolean;
  /** Outcome counts, keyed `kind:outcome` (e.g. `status:applied`, `inbound:stop`). */
  readonly outcomes: Readonly<Record<string, number>>;
}

export async function processWebhookEvent(
  deps: WebhookDeps,
  eventId: number,
  now: number,
): Promise<WebhookReport> {
  return deps.db.tx(async (sql) => {
    const payload = await repo.lockUnprocessedEvent(sql, eventId);
    if (payload === undefined) return { processed: false, outcomes: {} };
    const outcomes = await processWebhookPayload(deps, payload, now);
    await repo.finishEvent(sql, eventId, new Date(now));
    return { processed: true, outcomes };
  });
}

/** Applies every item of one payload, in order. */
export async function processWebhookPayload(
  deps: WebhookDeps,
  payload: unknown,
  now: number,
): Promise<Record<string, number>> {
  const outcomes: Record<string, number> = {};
  for (const item of webhookItems(payload)) {
    const outcome = await processItem(deps, item, now);
    const key = `${item.kind}:${outcome}`;
    outcomes[key] = (outcomes[key] ?? 0) + 1;
  }
  return outcomes;
}

async function processItem(deps: WebhookDeps, item: WebhookItem, now: number): Promise<string> {
  switch (item.kind) {
    case 'status':
      return applyStatusItem(deps.db, item, now);
    case 'inbound':
      return handleInbound(deps, item, now);
    case 'preference':
      return handlePreference(deps, item, now);
    case 'identity':
      return handleIdentityChange(deps, item, now);
    case 'template':
      await repo.upsertTemplateStatus(
        deps.db,
        { name: item.name, language: item.language, status: item.event, reason: item.reason },
        new Date(now),
      );
      deps.logger.info(
        { template: item.name, language: item.language, status: item.event },
        'template status',
      );
      webhookItemsTotal.inc({ kind: 'template', outcome: item.event.toLowerCase() });
      return 'recorded';
    case 'error':
      deps.logger.warn(
        { field: item.field, code: item.code, title: item.title },
        'WhatsApp reported an error',
      );
      webhookItemsTotal.inc({ kind: 'error', outcome: item.code });
      return item.code;
    case 'ignored':
      deps.logger.debug({ field: item.field, reason: item.reason }, 'webhook item ignored');
      webhookItemsTotal.inc({ kind: 'ignored', outcome: item.field });
      return item.reason;
  }
}

/** Our delivery id, as the sender puts it in biz_opaque_callback_data ("42" or "delivery-42"). */
export function deliveryIdFromCallback(data: string | undefined): number | undefined {
  const digits = /^(?:delivery-)?(\d{1,15})$/.exec(data ?? '')?.[1];
  const id = digits === undefined ? NaN : Number(digits);
  return Number.isSafeInteger(id) && id > 0 ? id : undefined;
}

async function applyStatusItem(db: Db, item: StatusItem, now: number): Promise<string> {
  const outcome = isReportedStatus(item.status)
    ? await db.tx((sql) => moveDelivery(sql, item, now))
    : `not-recorded-${item.status}`;
  webhookItemsTotal.inc({
    kind: 'status',
    outcome: outcome.startsWith('not-recorded') ? 'ignored' : outcome,
  });
  return outcome;
}

async function moveDelivery(sql: Sql, item: StatusItem, now: number): Promise<string> {
  const found = await repo.lockDeliveryForStatus(sql, item.wamid, deliveryIdFromCallback(item.callbackData));
  if (!found) return 'unmatched';
  // A status names a message we sent: its BSUID is the recipient's.
  const subscriberId = item.userId ? await repo.subscriberOfDelivery(sql, found.id) : undefined;
  if (subscriberId)
    await repo.learnWhatsAppIdentity(sql, subscriberId, { userId: item.userId }, new Date(now));
  const next = applyStatus(found.state, {
    status: item.status,
    wamid: item.wamid,
    at: new Date(item.at ?? now),
    error: item.error,
  });
  if (!next) return 'unchanged';
  await repo.writeDeliveryState(sql, found.id, next, new Date(now));
  if (next.status !== found.state.status && isReportedStatus(next.status))
    await recordDeliveryEvent(sql, found.id, next.status, now);
  // Meta reports most 131026 / 131050 failures here rather than in the send's answer.
  if (next.status === 'failed' && found.state.status !== 'failed' && next.errorCode !== null)
    await endChannelForProviderError(
      sql,
      found.id,
      'whatsapp',
      { code: next.errorCode, detail: next.errorDetail ?? undefined },
      now,
    );
  return 'applied';
}
