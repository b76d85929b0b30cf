// A reply typed in the sandbox's inbox becomes what Meta would post when the subscriber answers
// on their phone: a `messages` webhook with one text message, signed with the app secret
// (webhook-signing.ts), sent to Lastcall's webhook URL. Lastcall's answer is kept on the reply.
// Every reply carries the person's business-scoped user id; once they adopted a username it
// carries nothing else (no `from`, no `wa_id`), as Meta's webhooks do.
import type { IdentityBook } from './graph-identities.ts';
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
 * understands (STOP, FAIT / DONE, START: docs/subscribers.md, "Public pages and links"). */
export function quickReplies(language: string | undefined): readonly string[] {
  return language?.startsWith('fr') ? ['STOP', 'FAIT', 'START'] : ['STOP', 'DONE', 'START'];
}
export const MAX_REPLY_LENGTH = 4096;

export class ReplyError extends Error {
  readonly field: 'to' | 'text' | 'username';
  constructor(field: 'to' | 'text' | 'username', message: string) {
    super(message);
    this.name = 'ReplyError';
    this.field = field;
  }
}

/** How Meta names the person in a webhook: phone and BSUID, or the BSUID and username alone. */
function sender(from: string, identities: IdentityBook | undefined) {
  const identity = identities?.of(from);
  if (identity === undefined) return { from };
  return identity.username === undefined
    ? { from, userId: identity.userId }
    : { userId: identity.userId, username: identity.username };
}

/** The person behind a conversation adopts a username: their later webhooks carry only the BSUID. */
export function adoptUsername(
  identities: IdentityBook,
  input: { to: unknown; username: unknown },
): { digits: string; username: string } {
  const digits = typeof input.to === 'string' ? input.to.replace(/^\+/, '') : '';
  if (!/^\d{6,15}$/.test(digits))
    throw new ReplyError('to', 'to: must be the phone number of a conversation');
  const name = typeof input.username === 'string' ? input.username.trim() : '';
  try {
    identities.adoptUsername(digits, name);
  } catch (error) {
    throw new ReplyError('username', (error as Error).message);
  }
  return { digits, username: name };
}

/** Checks a reply, posts it signed, records it with Lastcall's answer, and returns it. */
export async function sendReply(
  target: ReplyTarget,
  store: InboxStore,
  input: { to: unknown; text: unknown },
  now: Date,
  identities?: IdentityBook,
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
      changes: [
        messagesChange(meta, [{ kind: 'text', ...sender(from, identities), id: reply.id, at: now, text }]),
      ],
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
