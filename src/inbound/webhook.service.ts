// Processing of stored WhatsApp webhooks (the `webhooks` queue's job, `{eventId}`), a page of
// events at a time: walk every entry, change, status and message (webhook-payload.ts), apply
// each in the order received, then drop the payloads. Statuses are settled together (a run of
// them in one transaction of two statements, docs/delivery.md), the rest one by one. Every step
// is idempotent (statuses are monotonic, inbound messages are keyed by their id, consent
// switches and "done" only change what is not already so), so a retried job that had got
// half-way does no harm. The event rows stay locked while they are processed.
import { campaignsUsingTemplate } from '../campaigns/template-usage.ts';
import { callingCodeOf } from '../campaigns/whatsapp-prices.ts';
import { storeMessagingLimit } from '../delivery/messaging-limit.gate.ts';
import { recordQualityUpdate } from '../delivery/whatsapp-account.service.ts';
import { recordCampaignEvent } from '../events/outbox.ts';
import { parseMessagingLimit } from '../shared/messaging-limit.ts';
import { webhookItemsTotal } from '../shared/metrics.ts';
import type { Db, Sql } from '../store/pool.ts';
import { endChannelForProviderError } from '../subscribers/bounce.service.ts';
import * as repo from './webhook.repository.ts';
import {
  handleIdentityChange,
  handleInbound,
  handleNumberChange,
  handlePreference,
  type InboundDeps,
} from './webhook-inbound.ts';
import { type StatusItem, type StatusPricing, type WebhookItem, webhookItems } from './webhook-payload.ts';
import { applyStatus, type DeliveryState, isReportedStatus, type ReportedStatus } from './webhook-status.ts';

export type WebhookDeps = InboundDeps & {
  /** After a `phone_number_quality_update`: the workers read the number's limits again
   *  (throughput level, messaging limit; docs/whatsapp.md). */
  readonly onQualityUpdate?: (() => void) | undefined;
};

export interface WebhookReport {
  /** False when the event was already processed (or is being processed elsewhere). */
  readonly processed: boolean;
  /** Outcome counts, keyed `kind:outcome` (e.g. `status:applied`, `inbound:stop`). */
  readonly outcomes: Readonly<Record<string, number>>;
}

/** Stored events taken at once by one job (about 10 statuses each as Meta batches them). */
const PAGE_EVENTS = 50;

/**
 * Processes the stored events waiting, a page at a time: `eventId` first (when no other page has
 * it) with the oldest others, in the order they were received, each page in one transaction that
 * keeps its events locked and marks them processed; then the next page, until a page comes back
 * short (nothing else was waiting). `serve` queues one job per batch of bodies it stored, so a
 * job answers for every event waiting when it runs, not only its own (docs/delivery.md,
 * "Statuses from WhatsApp"). Statuses are settled a page at a time (settleStatuses).
 */
export async function processWebhookEvent(
  deps: WebhookDeps,
  eventId: number,
  now: number,
): Promise<WebhookReport> {
  const outcomes: Record<string, number> = {};
  let processed = false;
  for (;;) {
    const taken = await processPage(deps, eventId, now, outcomes);
    processed ||= taken > 0;
    if (taken < PAGE_EVENTS) return { processed, outcomes };
  }
}

/** One page: how many events it took, their outcomes added to `outcomes`. */
async function processPage(
  deps: WebhookDeps,
  eventId: number,
  now: number,
  outcomes: Record<string, number>,
): Promise<number> {
  return deps.db.tx(async (sql) => {
    const page = (await repo.lockEventPage(sql, eventId, PAGE_EVENTS)).sort((a, b) => a.id - b.id);
    if (page.length === 0) return 0;
    const counted = await processItems(
      deps,
      page.flatMap((event) => webhookItems(event.payload)),
      now,
    );
    await repo.finishEvents(
      sql,
      page.map((event) => event.id),
      new Date(now),
    );
    for (const [key, n] of Object.entries(counted)) outcomes[key] = (outcomes[key] ?? 0) + n;
    return page.length;
  });
}

/** Applies every item of one payload, in order. */
export async function processWebhookPayload(
  deps: WebhookDeps,
  payload: unknown,
  now: number,
): Promise<Record<string, number>> {
  return processItems(deps, webhookItems(payload), now);
}

/** Applies items in order: each run of consecutive statuses settled together, in one go. */
async function processItems(
  deps: WebhookDeps,
  items: readonly WebhookItem[],
  now: number,
): Promise<Record<string, number>> {
  const outcomes: Record<string, number> = {};
  const count = (kind: string, outcome: string) => {
    const key = `${kind}:${outcome}`;
    outcomes[key] = (outcomes[key] ?? 0) + 1;
  };
  let statuses: StatusItem[] = [];
  const flush = async () => {
    if (statuses.length === 0) return;
    for (const outcome of await settleStatuses(deps.db, statuses, now)) count('status', outcome);
    statuses = [];
  };
  for (const item of items) {
    if (item.kind === 'status') {
      statuses.push(item);
      continue;
    }
    await flush();
    count(item.kind, await processItem(deps, item, now));
  }
  await flush();
  return outcomes;
}

async function processItem(
  deps: WebhookDeps,
  item: Exclude<WebhookItem, StatusItem>,
  now: number,
): Promise<string> {
  switch (item.kind) {
    case 'inbound':
      return handleInbound(deps, item, now);
    case 'preference':
      return handlePreference(deps, item, now);
    case 'identity':
      return handleIdentityChange(deps, item, now);
    case 'number':
      return handleNumberChange(deps, item);
    case 'quality':
      await recordQualityUpdate(deps.db, item, now);
      deps.logger.warn(
        { event: item.event, currentLimit: item.currentLimit ?? null },
        'WhatsApp number quality update (docs/whatsapp.md)',
      );
      webhookItemsTotal.inc({ kind: 'quality', outcome: item.event.toLowerCase().slice(0, 20) });
      deps.onQualityUpdate?.();
      return 'recorded';
    case 'capability': {
      const people = parseMessagingLimit(item.messagingLimit);
      if (people === undefined) return 'limit-not-understood';
      await storeMessagingLimit(deps.db, { tier: item.messagingLimit, people }, 'webhook', new Date(now));
      deps.logger.info({ limit: item.messagingLimit }, 'WhatsApp messaging limit changed (webhook)');
      webhookItemsTotal.inc({ kind: 'capability', outcome: 'recorded' });
      return 'recorded';
    }
    case 'template':
      await repo.upsertTemplateStatus(
        deps.db,
        { name: item.name, language: item.language, status: item.event, reason: item.reason },
        new Date(now),
      );
      await tellCampaigns(deps, { ...item, change: 'status', from: undefined, to: item.event }, now);
      webhookItemsTotal.inc({ kind: 'template', outcome: item.event.toLowerCase() });
      return 'recorded';
    case 'template-change':
      await repo.recordTemplateChange(deps.db, item, new Date(now));
      await tellCampaigns(deps, item, now);
      webhookItemsTotal.inc({ kind: 'template', outcome: item.change });
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

/**
 * A change Meta made to a template: an outbound `template.changed` event for each campaign still
 * to send that uses it (in one transaction), and a warning naming them; the console shows it on
 * those campaigns' pages (template_statuses).
 */
async function tellCampaigns(
  deps: WebhookDeps,
  t: { name: string; language: string; change: string; from: string | undefined; to: string },
  now: number,
): Promise<void> {
  const campaigns = await campaignsUsingTemplate(deps.db, t);
  if (campaigns.length > 0)
    await deps.db.tx(async (sql) => {
      for (const id of campaigns)
        await recordCampaignEvent(
          sql,
          'template.changed',
          id,
          { template: t.name, language: t.language, change: t.change, from: t.from ?? null, to: t.to },
          now,
        );
    });
  const log = { template: t.name, language: t.language, change: t.change, from: t.from, to: t.to, campaigns };
  if (campaigns.length > 0) deps.logger.warn(log, 'Meta changed a WhatsApp template that campaigns use');
  else deps.logger.info(log, 'Meta changed a WhatsApp template');
}

/** Our delivery id, as the sender puts it in biz_opaque_callback_data ("42" or "delivery-42"). */
export function deliveryIdFromCallback(data: string | undefined): number | undefined {
  const digits = /^(?:delivery-)?(\d{1,15})$/.exec(data ?? '')?.[1];
  const id = digits === undefined ? NaN : Number(digits);
  return Number.isSafeInteger(id) && id > 0 ? id : undefined;
}

/** PostgreSQL's answer when two transactions waited on each other: run the loser again. */
const DEADLOCK = '40P01';

/**
 * Settles statuses together, in one transaction: the deliveries they name are locked (one
 * statement), each status is applied in order to its row as the rule says (webhook-status.ts:
 * never backwards, failed is final, earliest timestamps), and the rows that changed are written
 * with their outbound events (one statement). A status that fails a delivery with a code that
 * ends the channel (131026, 131050) ends it in the same transaction. Returns each status's
 * outcome, in order.
 */
export async function settleStatuses(db: Db, items: readonly StatusItem[], now: number): Promise<string[]> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await db.tx((sql) => settleIn(sql, items, now));
    } catch (error) {
      // A send recording its page (send.repository.ts) can take the same rows in another order.
      if ((error as { code?: string }).code !== DEADLOCK || attempt >= 5) throw error;
    }
  }
}

async function settleIn(sql: Sql, items: readonly StatusItem[], now: number): Promise<string[]> {
  const reported = items.filter((item) => isReportedStatus(item.status));
  const rows = await repo.lockDeliveriesForStatuses(
    sql,
    [...new Set(reported.map((item) => item.wamid))],
    [...new Set(reported.flatMap((item) => deliveryIdFromCallback(item.callbackData) ?? []))],
  );
  const before = new Map(rows.map((row) => [row.id, row.state]));
  const recipients = new Map(
    rows.flatMap((row) => (row.recipient ? [[row.id, row.recipient] as const] : [])),
  );
  const state = new Map(before);
  const byWamid = new Map<string, number>();
  for (const row of rows)
    if (row.state.providerMessageId !== null) byWamid.set(row.state.providerMessageId, row.id);
  const events: { id: number; status: ReportedStatus }[] = [];
  const ended: { id: number; code: string; detail: string | null }[] = [];
  // A status names a message we sent: its BSUID is the recipient's (the last one given wins).
  const identities = new Map<string, string>();
  // Meta's pricing of the message, as its latest status with one reports it.
  const pricing = new Map<number, StatusPricing>();
  const outcomes = items.map((item) => {
    if (!isReportedStatus(item.status)) return `not-recorded-${item.status}`;
    const id = statusTarget(state, byWamid, item);
    if (id === undefined) return 'unmatched';
    const recipient = recipients.get(id);
    if (item.userId && recipient) identities.set(recipient.subscriberId, item.userId);
    if (item.pricing) pricing.set(id, item.pricing);
    const current = state.get(id)!;
    const next = applyStatus(current, {
      status: item.status,
      wamid: item.wamid,
      at: new Date(item.at ?? now),
      error: item.error,
    });
    if (!next) return 'unchanged';
    state.set(id, next);
    if (next.providerMessageId !== null) byWamid.set(next.providerMessageId, id);
    if (next.status !== current.status && isReportedStatus(next.status))
      events.push({ id, status: next.status });
    // Meta reports most 131026 / 131050 failures here rather than in the send's answer.
    if (next.status === 'failed' && current.status !== 'failed' && next.errorCode !== null)
      ended.push({ id, code: next.errorCode, detail: next.errorDetail });
    return 'applied';
  });
  // One write per row for its state and its pricing (docs/delivery.md, "Statuses from WhatsApp").
  const written = [...state]
    .filter(([id, s]) => s !== before.get(id) || pricing.has(id))
    .map(([id, s]) => {
      const p = pricing.get(id);
      return {
        id,
        state: s !== before.get(id) ? s : undefined,
        pricing: p && { ...p, callingCode: callingCodeOf(recipients.get(id)?.phone) },
      };
    });
  await repo.writeDeliveryStates(sql, written, events, new Date(now));
  const known = new Map([...recipients.values()].map((r) => [r.subscriberId, r.whatsappUserId]));
  for (const [subscriberId, userId] of identities)
    if (known.get(subscriberId) !== userId)
      await repo.learnWhatsAppIdentity(sql, subscriberId, { userId }, new Date(now));
  for (const e of ended)
    await endChannelForProviderError(
      sql,
      e.id,
      'whatsapp',
      { code: e.code, detail: e.detail ?? undefined },
      now,
    );
  for (const outcome of outcomes)
    webhookItemsTotal.inc({
      kind: 'status',
      outcome: outcome.startsWith('not-recorded') ? 'ignored' : outcome,
    });
  return outcomes;
}

/**
 * The delivery a status moves: the one holding its wamid, else the one whose id it echoes in
 * biz_opaque_callback_data when that row has no wamid yet or the same one (as it stands after
 * the statuses before it).
 */
function statusTarget(
  rows: ReadonlyMap<number, DeliveryState>,
  byWamid: ReadonlyMap<string, number>,
  item: StatusItem,
): number | undefined {
  const held = byWamid.get(item.wamid);
  if (held !== undefined) return held;
  const id = deliveryIdFromCallback(item.callbackData);
  const s = id === undefined ? undefined : rows.get(id);
  return s && (s.providerMessageId === null || s.providerMessageId === item.wamid) ? id : undefined;
}
