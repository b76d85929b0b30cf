// Answers to STOP / START / FAIT: a free-form text message, allowed because the person has just
// written to us (the 24-hour customer-service window is open). Sent with whatsapp-api-js through
// the graph-fetch wrapper (WHATSAPP_API_URL, timeout). A failed reply is reported, never thrown:
// the opt-out it confirms is already recorded, and retrying the whole webhook would not help.
// A person Meta names only by their business-scoped user id (a username user) is answered with
// `recipient: <BSUID>`: Meta answers a BSUID put in `to` with 200 and drops the message.
import { WhatsAppAPI } from 'whatsapp-api-js';
import { Text } from 'whatsapp-api-js/messages';
import type { ClientRecipientIdentifier } from 'whatsapp-api-js/types';
import type { Config } from '../config/config.ts';
import { captureResponse, createGraphFetch } from '../delivery/channels/graph-fetch.ts';

export type ReplyResult = { ok: true; messageId: string } | { ok: false; code: string };

/** The sender as Meta named them: their WhatsApp id (the digits of their number), or only
 *  their business-scoped user id. */
export type ReplyRecipient = { readonly waId: string } | { readonly userId: string };

export interface WhatsAppReplier {
  sendText(to: ReplyRecipient, body: string): Promise<ReplyResult>;
}

/** The library's recipient: the string form is its phone form (6.3's object form demands a
 *  bsuid), the object form with only `bsuid` puts it in `recipient` and leaves `to` out. */
export function libraryRecipient(to: ReplyRecipient): string | ClientRecipientIdentifier {
  return 'waId' in to ? to.waId.replace(/^\+/, '') : { bsuid: to.userId };
}

export function createWhatsAppReplier(
  whatsapp: NonNullable<Config['whatsapp']>,
  graphApi: Config['graphApi'],
  timeoutMs = 10_000,
): WhatsAppReplier {
  const api = new WhatsAppAPI({
    token: whatsapp.token,
    appSecret: whatsapp.appSecret,
    v: graphApi.version,
    ponyfill: { fetch: createGraphFetch(graphApi.url, timeoutMs) },
  });
  return {
    async sendText(to, body) {
      const recipient = libraryRecipient(to);
      const result = await captureResponse(() =>
        typeof recipient === 'string'
          ? api.sendMessage(whatsapp.phoneNumberId, recipient, new Text(body))
          : api.sendMessage(whatsapp.phoneNumberId, recipient, new Text(body)),
      );
      if (!result.ok) return { ok: false, code: (result.error as Error)?.name ?? 'network' };
      const res = (result.value ?? {}) as { error?: { code?: unknown }; messages?: { id?: unknown }[] };
      if (res.error) return { ok: false, code: String(res.error.code ?? 'graph-error') };
      const id = res.messages?.[0]?.id;
      return typeof id === 'string'
        ? { ok: true, messageId: id }
        : { ok: false, code: `http-${result.meta?.status ?? 'unknown'}` };
    },
  };
}
