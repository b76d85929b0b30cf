// A WhatsApp webhook payload flattened into the items Lastcall acts on. Meta batches: one POST
// may carry several entries, each with several changes, each with several statuses or messages
// (whatsapp-api-js reads only the first of each, hence this walk). Changes are routed on
// `changes[].field`. Anything unexpected becomes an `ignored` item instead of an exception: a
// payload that throws would be redelivered by Meta for days.

export interface StatusItem {
  readonly kind: 'status';
  /** The wamid of the message this status is about. */
  readonly wamid: string;
  /** sent, delivered, read, failed (played and future ones are passed through). */
  readonly status: string;
  /** Epoch ms of Meta's timestamp, when it has one. */
  readonly at: number | undefined;
  /** Our delivery id, echoed back from the send's biz_opaque_callback_data. */
  readonly callbackData: string | undefined;
  readonly error: { readonly code: string; readonly title: string | undefined } | undefined;
  /** The recipient's business-scoped user id (`recipient_user_id`), when Meta gives it. */
  readonly userId: string | undefined;
  /** Meta's `pricing` object (per-message pricing since July 2025), when the status has one. */
  readonly pricing?: StatusPricing | undefined;
}

export interface StatusPricing {
  readonly billable: boolean;
  readonly model: string | undefined;
  readonly category: string;
  readonly type: string | undefined;
}

export interface InboundItem {
  readonly kind: 'inbound';
  readonly messageId: string;
  /** wa_id (digits); undefined for a username-only sender known by a BSUID. */
  readonly from: string | undefined;
  /** The sender's business-scoped user id (`from_user_id`, or their contact's `user_id`). */
  readonly userId: string | undefined;
  /** The sender's WhatsApp username (their contact's `profile.username`), for display only. */
  readonly username: string | undefined;
  readonly type: string;
  /** What the person wrote or tapped: text body, button text or payload, list/button title. */
  readonly texts: readonly string[];
  readonly at: number | undefined;
}

export interface PreferenceItem {
  readonly kind: 'preference';
  /** At least one of waId (digits) and userId (BSUID) is set. */
  readonly waId: string | undefined;
  readonly userId: string | undefined;
  readonly value: 'stop' | 'resume';
  readonly category: string | undefined;
  readonly at: number | undefined;
}

export interface TemplateItem {
  readonly kind: 'template';
  readonly name: string;
  readonly language: string;
  readonly event: string;
  readonly reason: string | undefined;
}

/** A user's BSUID changed (system message `user_changed_user_id`, or the BSUID part of
 *  `user_changed_number`): the stored one is replaced. */
export interface IdentityItem {
  readonly kind: 'identity';
  readonly messageId: string;
  readonly previousUserId: string;
  readonly userId: string;
  readonly at: number | undefined;
}

/** A user changed their phone number (system message `user_changed_number`): `from` is the old
 *  number's wa_id, `newWaId` the new one (`system.wa_id`). */
export interface NumberChangeItem {
  readonly kind: 'number';
  readonly messageId: string;
  readonly from: string | undefined;
  /** The BSUID, when Meta names the person by it too. */
  readonly userId: string | undefined;
  readonly newWaId: string;
  readonly at: number | undefined;
}

/** `business_capability_update`: Meta changed the portfolio's messaging limit (a tier such as
 *  TIER_2K, or a number of people). */
export interface CapabilityItem {
  readonly kind: 'capability';
  readonly messagingLimit: string;
}

/** `phone_number_quality_update`: Meta's word on the number's quality (FLAGGED, UNFLAGGED,
 *  DOWNGRADE, UPGRADE…) and, often, the messaging limit now in force (`current_limit`). */
export interface QualityItem {
  readonly kind: 'quality';
  readonly event: string;
  readonly currentLimit: string | undefined;
}

/** Meta re-categorised a template (`template_category_update`: `impending` before it happens,
 *  then done) or re-rated its quality (`message_template_quality_update`). */
export interface TemplateChangeItem {
  readonly kind: 'template-change';
  readonly name: string;
  readonly language: string;
  readonly change: 'category-impending' | 'category' | 'quality';
  readonly from: string | undefined;
  readonly to: string;
}

export interface ErrorItem {
  readonly kind: 'error';
  readonly field: string;
  readonly code: string;
  readonly title: string | undefined;
}

export interface IgnoredItem {
  readonly kind: 'ignored';
  readonly field: string;
  readonly reason: string;
}

export type WebhookItem =
  | StatusItem
  | InboundItem
  | PreferenceItem
  | IdentityItem
  | NumberChangeItem
  | CapabilityItem
  | QualityItem
  | TemplateChangeItem
  | TemplateItem
  | ErrorItem
  | IgnoredItem;

type Obj = Record<string, unknown>;
const obj = (x: unknown): Obj | undefined =>
  x !== null && typeof x === 'object' && !Array.isArray(x) ? (x as Obj) : undefined;
const list = (x: unknown): unknown[] => (Array.isArray(x) ? x : []);
const str = (x: unknown): string | undefined =>
  typeof x === 'string' && x !== '' ? x : typeof x === 'number' ? String(x) : undefined;

/** A business-scoped user id as Meta writes it: an ISO country code, a dot, then the id
 *  (`US.13491208655302741918`; a parent BSUID is `US.ENT.…`). Anything else is not one. */
export const BSUID = /^[A-Z]{2}\.[A-Za-z0-9.]{1,128}$/;
const bsuid = (x: unknown): string | undefined => {
  const s = str(x);
  return s !== undefined && BSUID.test(s) ? s : undefined;
};
/** A username as shown to the person (display only): printable, at most 64 characters. */
const username = (x: unknown): string | undefined => {
  const s = str(x)?.trim();
  return s !== undefined && s !== '' && s.length <= 64 && !/\p{Cc}/u.test(s) ? s : undefined;
};

interface Contact {
  readonly waId: string | undefined;
  readonly userId: string | undefined;
  readonly username: string | undefined;
}

/** `contacts[]` of a change: who wrote, with their BSUID and username when Meta gives them. */
function contactsOf(value: Obj): Contact[] {
  return list(value.contacts).map((c) => ({
    waId: str(obj(c)?.wa_id),
    userId: bsuid(obj(c)?.user_id),
    username: username(obj(obj(c)?.profile)?.username),
  }));
}

/** The contact a message or preference is about: same wa_id, else same BSUID, else the only one. */
function contactFor(contacts: readonly Contact[], waId: string | undefined, userId: string | undefined) {
  return (
    contacts.find((c) => waId !== undefined && c.waId === waId) ??
    contacts.find((c) => userId !== undefined && c.userId === userId) ??
    (contacts.length === 1 && waId === undefined && userId === undefined ? contacts[0] : undefined)
  );
}

/** Meta's timestamps are epoch seconds, as a string or a number. */
export function epochMs(x: unknown): number | undefined {
  const seconds = typeof x === 'number' ? x : typeof x === 'string' && /^\d{1,12}$/.test(x) ? Number(x) : NaN;
  return Number.isFinite(seconds) && seconds > 0 ? seconds * 1000 : undefined;
}

/** True for the envelope Meta posts: an object with an `entry` array. */
export function isWebhookEnvelope(x: unknown): x is { object?: unknown; entry: unknown[] } {
  return Array.isArray(obj(x)?.entry);
}

/** The distinct `changes[].field` names of a payload, in order of appearance. */
export function webhookFields(payload: unknown): string[] {
  const fields = new Set<string>();
  for (const entry of list(obj(payload)?.entry))
    for (const change of list(obj(entry)?.changes)) fields.add(str(obj(change)?.field) ?? 'unknown');
  return [...fields];
}

export function webhookItems(payload: unknown): WebhookItem[] {
  const items: WebhookItem[] = [];
  for (const entry of list(obj(payload)?.entry)) {
    for (const change of list(obj(entry)?.changes)) {
      const field = str(obj(change)?.field) ?? 'unknown';
      const value = obj(obj(change)?.value);
      if (!value) {
        items.push({ kind: 'ignored', field, reason: 'no value' });
        continue;
      }
      if (field === 'messages') items.push(...messagesItems(value));
      else if (field === 'user_preferences') items.push(...preferenceItems(value));
      else if (field === 'message_template_status_update') items.push(templateItem(value));
      else if (field === 'business_capability_update') items.push(capabilityItem(value));
      else if (field === 'phone_number_quality_update') items.push(qualityItem(value));
      else if (field === 'template_category_update' || field === 'message_template_quality_update')
        items.push(templateChangeItem(field, value));
      else items.push({ kind: 'ignored', field, reason: 'field not handled' });
      for (const e of list(value.errors)) {
        const code = str(obj(e)?.code);
        if (code) items.push({ kind: 'error', field, code, title: str(obj(e)?.title) });
      }
    }
  }
  return items;
}

function messagesItems(value: Obj): WebhookItem[] {
  const items: WebhookItem[] = [];
  for (const s of list(value.statuses).map(obj)) {
    const wamid = str(s?.id);
    const status = str(s?.status);
    if (!s || !wamid || !status) {
      items.push({ kind: 'ignored', field: 'messages', reason: 'status without id or status' });
      continue;
    }
    const first = obj(list(s.errors)[0]);
    const code = str(first?.code);
    items.push({
      kind: 'status',
      wamid,
      status,
      at: epochMs(s.timestamp),
      callbackData: str(s.biz_opaque_callback_data),
      error: code ? { code, title: errorTitle(first) } : undefined,
      userId: bsuid(s.recipient_user_id),
      pricing: pricingOf(obj(s.pricing)),
    });
  }
  const contacts = contactsOf(value);
  for (const m of list(value.messages).map(obj)) {
    const messageId = str(m?.id);
    const type = str(m?.type) ?? 'unknown';
    if (!m || !messageId) {
      items.push({ kind: 'ignored', field: 'messages', reason: 'message without id' });
      continue;
    }
    const system = obj(m.system);
    const from = str(m.from);
    const fromUserId = bsuid(m.from_user_id);
    const contact = contactFor(contacts, from, fromUserId);
    const previousUserId = bsuid(system?.previous_user_id);
    const newUserId = bsuid(system?.user_id) ?? fromUserId;
    const newWaId = str(system?.wa_id) ?? str(system?.new_wa_id);
    const numberChanged = type === 'system' && str(system?.type) === 'user_changed_number' && newWaId;
    if (numberChanged)
      items.push({
        kind: 'number',
        messageId,
        from,
        userId: previousUserId ?? fromUserId,
        newWaId,
        at: epochMs(m.timestamp),
      });
    if (type === 'system' && previousUserId && newUserId && previousUserId !== newUserId) {
      items.push({
        kind: 'identity',
        messageId,
        previousUserId,
        userId: newUserId,
        at: epochMs(m.timestamp),
      });
      continue;
    }
    if (numberChanged) continue;
    const change = str(system?.marketing) ?? str(system?.value);
    if (type === 'system' && from && (change === 'stop' || change === 'resume')) {
      // The older form of Meta's marketing stop/resume ("user_preference_changed").
      items.push({
        kind: 'preference',
        waId: from,
        userId: fromUserId ?? contact?.userId,
        value: change,
        category: 'marketing_messages',
        at: epochMs(m.timestamp),
      });
      continue;
    }
    const interactive = obj(m.interactive);
    const texts = [
      str(obj(m.text)?.body),
      str(obj(m.button)?.text),
      str(obj(m.button)?.payload),
      str(obj(interactive?.button_reply)?.title),
      str(obj(interactive?.list_reply)?.title),
    ].filter((t): t is string => t !== undefined);
    items.push({
      kind: 'inbound',
      messageId,
      from,
      userId: fromUserId ?? contact?.userId,
      username: contact?.username,
      type,
      texts,
      at: epochMs(m.timestamp),
    });
  }
  return items;
}

function pricingOf(p: Obj | undefined): StatusPricing | undefined {
  const category = str(p?.category);
  if (!p || category === undefined || typeof p.billable !== 'boolean') return undefined;
  return { billable: p.billable, model: str(p.pricing_model), category, type: str(p.type) };
}

function errorTitle(e: Obj | undefined): string | undefined {
  const title = str(e?.title) ?? str(e?.message);
  const details = str(obj(e?.error_data)?.details);
  if (!title) return details;
  return details && details !== title ? `${title}: ${details}` : title;
}

function preferenceItems(value: Obj): WebhookItem[] {
  const contacts = contactsOf(value);
  return list(value.user_preferences).map((p): WebhookItem => {
    const pref = obj(p);
    const waId = str(pref?.wa_id);
    const ownUserId = bsuid(pref?.user_id);
    const userId = ownUserId ?? contactFor(contacts, waId, undefined)?.userId;
    const v = str(pref?.value);
    if (!pref || (!waId && !ownUserId) || (v !== 'stop' && v !== 'resume'))
      return {
        kind: 'ignored',
        field: 'user_preferences',
        reason: 'preference without wa_id or user_id, or stop/resume',
      };
    return {
      kind: 'preference',
      waId,
      userId,
      value: v,
      category: str(pref.category),
      at: epochMs(pref.timestamp),
    };
  });
}

function capabilityItem(value: Obj): WebhookItem {
  const limit = str(value.max_daily_conversations_per_business) ?? str(value.messaging_limit_tier);
  return limit === undefined
    ? { kind: 'ignored', field: 'business_capability_update', reason: 'no messaging limit' }
    : { kind: 'capability', messagingLimit: limit };
}

function qualityItem(value: Obj): WebhookItem {
  const event = str(value.event);
  return event === undefined
    ? { kind: 'ignored', field: 'phone_number_quality_update', reason: 'no event' }
    : { kind: 'quality', event, currentLimit: str(value.current_limit) };
}

function templateChangeItem(field: string, value: Obj): WebhookItem {
  const name = str(value.message_template_name);
  const language = str(value.message_template_language);
  if (!name || !language) return { kind: 'ignored', field, reason: 'template without name or language' };
  if (field === 'message_template_quality_update') {
    const to = str(value.new_quality_score);
    return to === undefined
      ? { kind: 'ignored', field, reason: 'no new quality score' }
      : {
          kind: 'template-change',
          name,
          language,
          change: 'quality',
          from: str(value.previous_quality_score),
          to,
        };
  }
  // Impending: Meta names the category it will move the template to (`correct_category`) before
  // it does; done: `new_category`, with the `previous_category`.
  const done = str(value.new_category);
  const impending = str(value.correct_category);
  const to = done ?? impending;
  if (to === undefined) return { kind: 'ignored', field, reason: 'no new category' };
  return {
    kind: 'template-change',
    name,
    language,
    change: done === undefined ? 'category-impending' : 'category',
    from: str(value.previous_category),
    to,
  };
}

function templateItem(value: Obj): WebhookItem {
  const name = str(value.message_template_name);
  const language = str(value.message_template_language);
  const event = str(value.event);
  if (!name || !language || !event)
    return {
      kind: 'ignored',
      field: 'message_template_status_update',
      reason: 'template without name, language or event',
    };
  const reason = str(value.reason);
  return { kind: 'template', name, language, event, reason: reason === 'NONE' ? undefined : reason };
}

/**
 * A stored payload with every trace of some people removed (`subscribers forget` while their
 * webhook waits to be processed). An array element naming one of the `needles` (wa_id digits,
 * BSUIDs, usernames) in one of its own fields goes: a status (`recipient_id`,
 * `recipient_user_id`), a message (`from`, `from_user_id`), a contact with its profile name and
 * username (`wa_id`, `user_id`), a preference. Any other string holding one becomes `[erased]`.
 * What is left about other people is unchanged, so the event is still processed for them.
 * Returns undefined when nothing matched.
 */
export function redactWebhookPayload(payload: unknown, needles: readonly string[]): unknown | undefined {
  const wanted = needles.filter((n) => n !== '');
  const holds = (x: unknown): boolean =>
    (typeof x === 'string' || typeof x === 'number') && wanted.some((n) => String(x).includes(n));
  if (wanted.length === 0 || !wanted.some((n) => JSON.stringify(payload).includes(n))) return undefined;
  const names = (item: unknown): boolean => Object.values(obj(item) ?? {}).some(holds);
  const walk = (x: unknown): unknown => {
    if (Array.isArray(x)) return x.filter((item) => !names(item)).map(walk);
    if (holds(x)) return '[erased]';
    const o = obj(x);
    return o ? Object.fromEntries(Object.entries(o).map(([k, v]) => [k, walk(v)])) : x;
  };
  return walk(payload);
}
