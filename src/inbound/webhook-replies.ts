// Answers to STOP / START / FAIT: a free-form text message, allowed because the person has just
// written to us (the 24-hour customer-service window is open). Sent with whatsapp-api-js through
// the graph-fetch wrapper (WHATSAPP_API_URL, timeout). A failed reply is reported, never thrown:
// the opt-out it confirms is already recorded, and retrying the whole webhook would not help.
import { WhatsAppAPI } from 'whatsapp-api-js';
import { Text } from 'whatsapp-api-js/messages';
import type { Config } from '../config/config.ts';
import { captureResponse, createGraphFetch } from '../delivery/channels/graph-fetch.ts';

export type ReplyResult = { ok: true; messageId: string } | { ok: false; code: string };

export interface WhatsAppReplier {
  /** `waId`: the sender's WhatsApp id (the digits of their number). */
  sendText(waId: string, body: string): Promise<ReplyResult>;
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
    async sendText(waId, body) {
      // The string recipient is the library's phone form (6.3's object form demands a bsuid).
      const result = await captureResponse(() =>
        api.sendMessage(whatsapp.phoneNumberId, waId.replace(/^\+/, ''), new Text(body)),
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
