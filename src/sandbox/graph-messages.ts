// `POST /<v>/<PHONE_NUMBER_ID>/messages`: Meta's request checks and success reply, without I/O.
// A recipient is named by phone in `to`, or by business-scoped user id (BSUID) in `recipient`.
// A BSUID put in `to` is what Meta answers with 200 and a message id, then silently drops: the
// fake does the same (the message is `dropped`, never shown in the inbox).
import { randomBytes } from 'node:crypto';
import { type GraphErrorReply, graphError } from './graph-errors.ts';
import type { IdentityBook } from './graph-identities.ts';
import {
  checkTemplateSend,
  isGraphErrorReply,
  type RenderedTemplate,
  type TemplateDef,
} from './graph-templates.ts';

/** A message the fake accepted. */
export interface SentMessage {
  /** The wamid returned to the caller. */
  id: string;
  phoneNumberId: string;
  /** Recipient digits, without "+" (resolved from the BSUID when sent to `recipient`). */
  to: string;
  /** The BSUID the request named in `recipient`, when it was sent that way. */
  userId?: string;
  /** True when Meta would drop it: a BSUID in `to` (answered 200, never delivered). */
  dropped?: boolean;
  type: 'template' | 'text';
  template?: { name: string; language: string; components: unknown[] };
  text?: string;
  rendered?: RenderedTemplate;
  callbackData?: string;
  /** The request body as received. */
  payload: Record<string, unknown>;
}

export interface SendSuccess {
  messaging_product: 'whatsapp';
  contacts: { input: string; wa_id?: string; user_id?: string }[];
  messages: { id: string }[];
}

const BSUID = /^[A-Z]{2}\.[A-Za-z0-9.]{1,128}$/;

let counter = 0;

/** A unique wamid in Meta's look (base64 after "wamid."); it never embeds the phone number. */
export function newWamid(): string {
  counter += 1;
  const raw = Buffer.concat([Buffer.from([0x15, 0x02, 0x00]), Buffer.from(`${counter}`), randomBytes(15)]);
  return `wamid.HBgL${raw.toString('base64')}`;
}

/** Recipient digits of a request's `to` ("+33 6 12…" → "33612…"), or undefined when it isn't a number. */
export function recipientDigits(to: unknown): string | undefined {
  if (typeof to !== 'string') return undefined;
  const digits = to.replace(/^\+/, '').replace(/[\s-]/g, '');
  return /^\d{6,15}$/.test(digits) ? digits : undefined;
}

function obj(x: unknown): Record<string, unknown> | undefined {
  return x && typeof x === 'object' && !Array.isArray(x) ? (x as Record<string, unknown>) : undefined;
}

export function acceptMessage(
  registry: readonly TemplateDef[],
  phoneNumberId: string,
  body: unknown,
  identities?: IdentityBook,
): GraphErrorReply | { message: SentMessage; reply: SendSuccess } {
  const b = obj(body);
  if (b?.messaging_product !== 'whatsapp') {
    return graphError(100, 'The parameter messaging_product is required and must be "whatsapp"');
  }
  if (b.recipient_type !== undefined && b.recipient_type !== 'individual') {
    return graphError(100, `recipient_type ${JSON.stringify(b.recipient_type)} is not supported`);
  }
  const addressed = addressee(b, identities);
  if ('status' in addressed) return addressed;
  const { to, userId, dropped } = addressed;
  const callbackData = b.biz_opaque_callback_data;
  if (callbackData !== undefined && (typeof callbackData !== 'string' || callbackData.length > 512)) {
    return graphError(131009, 'biz_opaque_callback_data must be a string of at most 512 characters');
  }
  const message: SentMessage = { id: newWamid(), phoneNumberId, to, type: 'text', payload: b };
  if (callbackData !== undefined) message.callbackData = callbackData;
  if (userId !== undefined) message.userId = userId;
  if (dropped) message.dropped = true;

  if (b.type === 'template') {
    const t = obj(b.template);
    const name = t?.name;
    const language = obj(t?.language)?.code;
    if (typeof name !== 'string' || typeof language !== 'string') {
      return graphError(131008, 'template.name and template.language.code are required');
    }
    const components = Array.isArray(t?.components) ? (t.components as unknown[]) : [];
    const rendered = checkTemplateSend(registry, name, language, components);
    if (isGraphErrorReply(rendered)) return rendered;
    message.type = 'template';
    message.template = { name, language, components };
    message.rendered = rendered;
  } else if (b.type === 'text') {
    const text = obj(b.text)?.body;
    if (typeof text !== 'string' || text.length === 0 || text.length > 4096) {
      return graphError(131008, 'text.body is required (1 to 4096 characters)');
    }
    message.text = text;
  } else {
    return graphError(131051, `message type ${JSON.stringify(b.type)} is not supported by this sandbox`);
  }
  const reply: SendSuccess = {
    messaging_product: 'whatsapp',
    contacts: [
      userId !== undefined
        ? { input: userId, user_id: userId }
        : dropped
          ? { input: String(b.to) }
          : { input: String(b.to), wa_id: to },
    ],
    messages: [{ id: message.id }],
  };
  return { message, reply };
}

/** Who a request is for: a phone in `to`, a BSUID in `recipient`, or a BSUID wrongly in `to`. */
function addressee(
  b: Record<string, unknown>,
  identities: IdentityBook | undefined,
): GraphErrorReply | { to: string; userId?: string; dropped?: boolean } {
  const recipient = b.recipient;
  if (recipient !== undefined) {
    if (typeof recipient !== 'string' || !BSUID.test(recipient))
      return graphError(100, 'The parameter recipient must be a business-scoped user id (CC.xxxx)');
    if (b.to !== undefined)
      return graphError(100, 'Give either to (a phone number) or recipient (a business-scoped user id)');
    const known = identities?.byUserId(recipient);
    if (!known) return graphError(131026, `No WhatsApp user has the business-scoped user id ${recipient}`);
    return { to: known.digits, userId: recipient };
  }
  if (typeof b.to === 'string' && BSUID.test(b.to)) {
    // Meta's documented pitfall: accepted, never delivered.
    const known = identities?.byUserId(b.to);
    return { to: known?.digits ?? '', dropped: true };
  }
  const to = recipientDigits(b.to);
  if (!to) return graphError(100, 'The parameter to must be a phone number in international format');
  return { to };
}
