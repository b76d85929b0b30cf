// Builders for the webhook payloads Meta posts (Cloud API "messages" and neighbouring fields).
// Meta batches: one POST may carry several entries, each with several changes, each with several
// statuses or messages. Build changes with the helpers, then wrap them with `webhookPayload`.
// Timestamps are passed in (epoch seconds as strings on the wire), never read from the clock here.
import { graphErrorTitle } from './graph-errors.ts';

export interface WebhookMetadata {
  phoneNumberId: string;
  displayPhoneNumber: string;
}

export interface WebhookChange {
  field: string;
  value: Record<string, unknown>;
}

export interface WebhookEntry {
  /** The WhatsApp Business Account id. */
  id: string;
  changes: WebhookChange[];
}

export interface StatusInput {
  /** The wamid returned by the send. */
  id: string;
  status: 'sent' | 'delivered' | 'read' | 'failed';
  /** The recipient's phone digits; left out for a username user reached by BSUID. */
  recipientId?: string;
  /** The recipient's business-scoped user id (`recipient_user_id`). */
  recipientUserId?: string;
  at: Date;
  callbackData?: string;
  category?: 'utility' | 'marketing' | 'authentication';
  errors?: { code: number; title?: string; details?: string }[];
}

/** Who wrote. `from` (phone digits) is left out for a user who adopted a username: Meta then
 *  names them only by their business-scoped user id (`userId`). */
interface Sender {
  from?: string;
  userId?: string;
  username?: string;
  name?: string;
}

export type InboundInput =
  | (Sender & { kind: 'text'; id: string; at: Date; text: string })
  | (Sender & {
      kind: 'button';
      id: string;
      at: Date;
      text: string;
      payload: string;
      /** The wamid of the template message whose quick-reply button was tapped. */
      contextId: string;
    });

const epoch = (d: Date) => String(Math.floor(d.getTime() / 1000));
const ERROR_CODES_URL = 'https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes/';

function base(meta: WebhookMetadata): Record<string, unknown> {
  return {
    messaging_product: 'whatsapp',
    metadata: { display_phone_number: meta.displayPhoneNumber, phone_number_id: meta.phoneNumberId },
  };
}

export function statusesChange(meta: WebhookMetadata, statuses: StatusInput[]): WebhookChange {
  const list = statuses.map((s) => {
    const out: Record<string, unknown> = { id: s.id, status: s.status, timestamp: epoch(s.at) };
    if (s.recipientId !== undefined) out.recipient_id = s.recipientId;
    if (s.recipientUserId !== undefined) out.recipient_user_id = s.recipientUserId;
    if (s.callbackData !== undefined) out.biz_opaque_callback_data = s.callbackData;
    if (s.status === 'failed') {
      out.errors = (s.errors ?? [{ code: 131026 }]).map((e) => {
        const title = e.title ?? graphErrorTitle(e.code);
        return {
          code: e.code,
          title,
          message: title,
          error_data: { details: e.details ?? title },
          href: ERROR_CODES_URL,
        };
      });
    } else {
      out.pricing = {
        billable: true,
        pricing_model: 'PMP',
        type: 'regular',
        category: s.category ?? 'utility',
      };
    }
    return out;
  });
  return { field: 'messages', value: { ...base(meta), statuses: list } };
}

export function messagesChange(meta: WebhookMetadata, messages: InboundInput[]): WebhookChange {
  const contacts = new Map<string, Record<string, unknown>>();
  for (const m of messages) {
    const profile: Record<string, unknown> = { name: m.name ?? '' };
    if (m.username !== undefined) profile.username = m.username;
    const contact: Record<string, unknown> = { profile };
    if (m.from !== undefined) contact.wa_id = m.from;
    if (m.userId !== undefined) contact.user_id = m.userId;
    contacts.set(m.from ?? m.userId ?? '', contact);
  }
  const list = messages.map((m) => {
    const common: Record<string, unknown> = { id: m.id, timestamp: epoch(m.at) };
    if (m.from !== undefined) common.from = m.from;
    if (m.userId !== undefined) common.from_user_id = m.userId;
    return m.kind === 'text'
      ? { ...common, type: 'text', text: { body: m.text } }
      : {
          ...common,
          type: 'button',
          context: { from: meta.displayPhoneNumber, id: m.contextId },
          button: { text: m.text, payload: m.payload },
        };
  });
  return { field: 'messages', value: { ...base(meta), contacts: [...contacts.values()], messages: list } };
}

/** Meta's own marketing stop/resume ("Stop promotions"), field `user_preferences`. */
export function userPreferencesChange(
  meta: WebhookMetadata,
  prefs: { waId?: string; userId?: string; value: 'stop' | 'resume'; at: Date }[],
): WebhookChange {
  const list = prefs.map((p) => ({
    ...(p.waId !== undefined ? { wa_id: p.waId } : {}),
    ...(p.userId !== undefined ? { user_id: p.userId } : {}),
    detail:
      p.value === 'stop'
        ? 'User requested to stop marketing messages'
        : 'User requested to resume marketing messages',
    category: 'marketing_messages',
    value: p.value,
    timestamp: Number(epoch(p.at)),
  }));
  return { field: 'user_preferences', value: { ...base(meta), user_preferences: list } };
}

/** A `messages` system message, without a `contacts` array (as Meta sends system messages). */
function systemMessage(
  meta: WebhookMetadata,
  message: { id: string; at: Date; from?: string; from_user_id?: string },
  system: Record<string, string>,
): WebhookChange {
  const { id, at, ...sender } = message;
  return {
    field: 'messages',
    value: {
      ...base(meta),
      messages: [{ ...sender, id, timestamp: epoch(at), type: 'system', system }],
    },
  };
}

/** `user_changed_number`, as Meta documents it: `from` the old number, `system.wa_id` the new. */
export function numberChange(
  meta: WebhookMetadata,
  change: { id: string; from: string; newWaId: string; at: Date },
): WebhookChange {
  return systemMessage(
    meta,
    { id: change.id, at: change.at, from: change.from },
    {
      body: `User changed from ${change.from} to ${change.newWaId}`,
      wa_id: change.newWaId,
      type: 'user_changed_number',
    },
  );
}

/** A user's BSUID changed and no phone can be shared: `user_changed_user_id`. */
export function userIdChange(
  meta: WebhookMetadata,
  change: { id: string; previousUserId: string; userId: string; at: Date },
): WebhookChange {
  return systemMessage(
    meta,
    { id: change.id, at: change.at, from_user_id: change.userId },
    {
      body: 'User changed their business-scoped user id',
      type: 'user_changed_user_id',
      user_id: change.userId,
      previous_user_id: change.previousUserId,
    },
  );
}

/** Meta moved a template to another category (`template_category_update`, done). */
export function templateCategoryChange(t: {
  id: string;
  name: string;
  language: string;
  previous: string;
  next: string;
}): WebhookChange {
  return {
    field: 'template_category_update',
    value: {
      message_template_id: Number(t.id),
      message_template_name: t.name,
      message_template_language: t.language,
      previous_category: t.previous,
      new_category: t.next,
    },
  };
}

/** Template review result, field `message_template_status_update` (no `metadata`, unlike the others). */
export function templateStatusChange(t: {
  id: string;
  name: string;
  language: string;
  event: 'APPROVED' | 'REJECTED' | 'PAUSED' | 'DISABLED' | 'PENDING';
  reason?: string;
}): WebhookChange {
  return {
    field: 'message_template_status_update',
    value: {
      event: t.event,
      message_template_id: Number(t.id),
      message_template_name: t.name,
      message_template_language: t.language,
      reason: t.reason ?? 'NONE',
    },
  };
}

export function webhookPayload(entries: WebhookEntry[]): Record<string, unknown> {
  return { object: 'whatsapp_business_account', entry: entries };
}
