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
  recipientId: string;
  at: Date;
  callbackData?: string;
  category?: 'utility' | 'marketing' | 'authentication';
  errors?: { code: number; title?: string; details?: string }[];
}

export type InboundInput =
  | { kind: 'text'; from: string; name?: string; id: string; at: Date; text: string }
  | {
      kind: 'button';
      from: string;
      name?: string;
      id: string;
      at: Date;
      text: string;
      payload: string;
      /** The wamid of the template message whose quick-reply button was tapped. */
      contextId: string;
    };

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
    const out: Record<string, unknown> = {
      id: s.id,
      status: s.status,
      timestamp: epoch(s.at),
      recipient_id: s.recipientId,
    };
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
  for (const m of messages) contacts.set(m.from, { profile: { name: m.name ?? '' }, wa_id: m.from });
  const list = messages.map((m) => {
    const common = { from: m.from, id: m.id, timestamp: epoch(m.at) };
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
  prefs: { waId: string; value: 'stop' | 'resume'; at: Date }[],
): WebhookChange {
  const list = prefs.map((p) => ({
    wa_id: p.waId,
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
