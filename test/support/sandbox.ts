// Shared by the sandbox tests: a webhook receiver standing in for Lastcall's /webhooks/whatsapp
// (it keeps the raw bytes and the signature header of every POST), and a real send through
// Lastcall's own WhatsApp channel, rendered from a shipped message template.
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { sampleMessageVars } from '../../src/campaigns/message-vars.ts';
import { loadMessageTemplates, renderWhatsApp, SHIPPED_MESSAGES_DIR } from '../../src/campaigns/messages.ts';
import { WhatsAppChannel } from '../../src/delivery/channels/whatsapp.ts';
import type { Sandbox } from '../../src/sandbox/sandbox.service.ts';

export interface ReceivedWebhook {
  readonly headers: IncomingHttpHeaders;
  readonly raw: Buffer;
  readonly json: {
    entry: { changes: { field: string; value: Record<string, unknown> }[] }[];
  };
}

export interface WebhookReceiver {
  readonly url: string;
  readonly received: ReceivedWebhook[];
  close(): Promise<void>;
}

export async function startWebhookReceiver(): Promise<WebhookReceiver> {
  const received: ReceivedWebhook[] = [];
  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const raw = Buffer.concat(chunks);
    received.push({ headers: req.headers, raw, json: JSON.parse(raw.toString('utf8')) });
    res.writeHead(200).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/webhooks/whatsapp`,
    received,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

export const APP_SECRET = 'sandbox-test-app-secret';
export const PUBLIC_URL = 'https://lastcall.example.org';

/** Sends one shipped template through Lastcall's WhatsApp channel, as the send worker does. */
export async function sendShippedTemplate(
  sandbox: Sandbox,
  opts: {
    to: string;
    locale: 'fr' | 'en';
    template: string;
    name: string;
    assistant: 'chatgpt' | 'copilot' | 'both';
  },
) {
  const template = await loadMessageTemplates(SHIPPED_MESSAGES_DIR, opts.locale, opts.template);
  const rendered = renderWhatsApp(
    template,
    sampleMessageVars(opts.locale, { assistant: opts.assistant }, opts.name),
  );
  const channel = new WhatsAppChannel({
    token: sandbox.graph.token,
    phoneNumberId: sandbox.graph.phoneNumberId,
    appSecret: APP_SECRET,
    apiUrl: sandbox.url,
    apiVersion: 'v23.0',
  });
  const outcome = await channel.sendTemplate({
    to: opts.to,
    templateName: rendered.name,
    language: rendered.language,
    bodyParams: [...rendered.bodyParams],
    ...(rendered.button ? { buttonUrlParam: rendered.button.param } : {}),
    callbackData: 'delivery-1',
  });
  return { rendered, outcome };
}

/** Polls until `check` holds, or fails after `timeoutMs`. */
export async function until(what: string, check: () => boolean, timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
