// A reply typed in the sandbox's inbox becomes what Meta would post when the subscriber answers
// on their phone: a `messages` webhook with one text message, signed with the app secret
// (webhook-signing.ts), sent to Lastcall's webhook URL. Lastcall's answer is kept on the reply.
import { newWamid } from './graph-messages.ts';
import type { InboundReply, InboxStore } from './inbox-store.ts';
import { messagesChange, webhookPayload } from './webhook-payloads.ts';
import { postWebhook } from './webhook-signing.ts';

export interface ReplyTarget {
  /** Lastcall's webhook, e.g. http://api:8080/webhooks/whatsapp */
  readonly url: string;
  readonly appSecret: string;
  readonly wabaId: string;
  readonly phoneNumberId: string;
  readonly displayPhoneNumber: string;
}

/** The replies the inbox offers as buttons, in the conversation's language: what Lastcall
 * understands (SPEC 7: STOP, FAIT / DONE, START). */
export function quickReplies(language: string | undefined): readonly string[] {
  return language?.startsWith('fr') ? ['STOP', 'FAIT', 'START'] : ['STOP', 'DONE', 'START'];
}
export const MAX_REPLY_LENGTH = 4096;

export class ReplyError extends Error {
  readonly field: 'to' | 'text';
  constructor(field: 'to' | 'text', message: string) {
    super(message);
    this.name = 'ReplyError';
    this.field = field;
  }
}

/** Checks a reply, posts it signed, records it with Lastcall's answer, and returns it. */
export async function sendReply(
  target: ReplyTarget,
  store: InboxStore,
  input: { to: unknown; text: unknown },
  now: Date,
): Promise<InboundReply> {
  const from = typeof input.to === 'string' ? input.to.replace(/^\+/, '') : '';
  if (!/^\d{6,15}$/.test(from)) throw new ReplyError('to', 'to: must be the phone number of a conversation');
  const text = typeof input.text === 'string' ? input.text.trim() : '';
  if (text === '' || text.length > MAX_REPLY_LENGTH)
    throw new ReplyError('text', `text: must be 1 to ${MAX_REPLY_LENGTH} characters`);

  const reply: InboundReply = { id: newWamid(), from, text, at: now.getTime() };
  store.recordReply(reply);
  const meta = { phoneNumberId: target.phoneNumberId, displayPhoneNumber: target.displayPhoneNumber };
  const payload = webhookPayload([
    {
      id: target.wabaId,
      changes: [messagesChange(meta, [{ kind: 'text', from, id: reply.id, at: now, text }])],
    },
  ]);
  try {
    const res = await postWebhook(target.url, payload, { appSecret: target.appSecret });
    reply.httpStatus = res.status;
  } catch (error) {
    const e = error as Error & { cause?: { code?: string } };
    reply.error = e.cause?.code ?? e.message;
  }
  store.touch();
  return reply;
}
