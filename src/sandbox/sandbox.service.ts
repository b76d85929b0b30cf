// The WhatsApp sandbox as a service (`lastcall sandbox`, the compose `sandbox`, the native demo):
// the fake Graph API holding every Lastcall template as APPROVED, the inbox on the same port,
// and, when Lastcall's webhook URL is known, signed status webhooks after each accepted send and
// the inbox's replies (STOP / FAIT / START / free text) posted the way Meta posts them. With
// `smtpPort`, a mail catcher too: the emails appear in the same inbox as the conversations.
import { SHIPPED_MESSAGES_DIR } from '../campaigns/messages.ts';
import { type FakeGraphApi, startFakeGraphApi } from './graph-fake.ts';
import type { ReplyTarget } from './inbox-replies.ts';
import { inboxHandler } from './inbox-routes.ts';
import { InboxStore } from './inbox-store.ts';
import { type MailCatcher, startMailCatcher } from './mail-catcher.ts';
import { lastcallTemplateSeeds } from './sandbox-templates.ts';

/** The credentials the compose file gives both Lastcall and the sandbox (docker-compose.yml). */
export const SANDBOX_DEFAULTS = {
  token: 'sandbox-token',
  appSecret: 'sandbox-app-secret',
  phoneNumberId: '100000000000001',
  wabaId: '200000000000002',
  verifyToken: 'sandbox-verify-token',
  displayPhoneNumber: '15550001111',
} as const;

export interface SandboxOptions {
  readonly host?: string;
  /** 0 picks a free port. */
  readonly port?: number;
  readonly token: string;
  readonly appSecret: string;
  readonly phoneNumberId: string;
  readonly wabaId: string;
  /** Lastcall's POST /webhooks/whatsapp; without it no statuses are reported and replies are off. */
  readonly webhookUrl?: string;
  /** PUBLIC_URL: the templates' URL buttons are registered under it, as with Meta. */
  readonly publicUrl: string;
  readonly messagesDir?: string;
  /** Pause before each status webhook (sent, delivered, read). Default 400 ms. */
  readonly statusDelayMs?: number;
  readonly clock?: () => Date;
  /** The messaging limit the fake reports and enforces (default TIER_UNLIMITED; docs/whatsapp.md). */
  readonly messagingTier?: string;
  /** The throughput level the fake reports (default STANDARD). */
  readonly throughputLevel?: string;
  /** Start the mail catcher on this port of 127.0.0.1 (0 picks one); undefined: no mail catcher. */
  readonly smtpPort?: number;
}

export interface Sandbox {
  /** Base URL: WHATSAPP_API_URL for Lastcall, and the inbox at "/". */
  readonly url: string;
  readonly port: number;
  readonly graph: FakeGraphApi;
  readonly inbox: InboxStore;
  readonly templates: number;
  /** smtp://127.0.0.1:<port> of the mail catcher (for SMTP_URL), when started. */
  readonly smtpUrl: string | undefined;
  close(): Promise<void>;
}

export async function startSandbox(options: SandboxOptions): Promise<Sandbox> {
  const clock = options.clock ?? (() => new Date());
  const seeds = await lastcallTemplateSeeds(options.messagesDir ?? SHIPPED_MESSAGES_DIR, options.publicUrl);
  const inbox = new InboxStore();
  const target: ReplyTarget | undefined = options.webhookUrl
    ? {
        url: options.webhookUrl,
        appSecret: options.appSecret,
        wabaId: options.wabaId,
        phoneNumberId: options.phoneNumberId,
        displayPhoneNumber: SANDBOX_DEFAULTS.displayPhoneNumber,
      }
    : undefined;
  // The inbox reads the fake's templates and webhook log, which exist once it has started.
  let graph: FakeGraphApi | undefined;
  let mail: MailCatcher | undefined;
  const handler = inboxHandler({
    store: inbox,
    templates: () => graph?.templates() ?? [],
    deliveries: () => graph?.webhookDeliveries() ?? [],
    target,
    phoneNumberId: options.phoneNumberId,
    identities: () => graph?.identities,
    recategorise: (name, language, category) => graph?.recategorise(name, language, category),
    smtpUrl: () => mail?.url,
    clock,
  });
  graph = await startFakeGraphApi({
    host: options.host ?? '127.0.0.1',
    port: options.port ?? 0,
    token: options.token,
    phoneNumberId: options.phoneNumberId,
    wabaId: options.wabaId,
    displayPhoneNumber: SANDBOX_DEFAULTS.displayPhoneNumber,
    verifiedName: 'Lastcall Sandbox',
    ...(options.messagingTier ? { messagingTier: options.messagingTier } : {}),
    ...(options.throughputLevel ? { throughputLevel: options.throughputLevel } : {}),
    templates: seeds,
    // Templates pushed with `lastcall templates push` are approved at once: there is no reviewer.
    newTemplateStatus: 'APPROVED',
    clock,
    intercept: handler,
    onSent: (message) => inbox.recordSent(message, clock().getTime()),
    ...(options.webhookUrl
      ? {
          webhook: {
            url: options.webhookUrl,
            appSecret: options.appSecret,
            delayMs: options.statusDelayMs ?? 400,
          },
        }
      : {}),
  });
  const started = graph;
  if (options.smtpPort !== undefined) {
    try {
      mail = await startMailCatcher(inbox, { port: options.smtpPort, clock });
    } catch (error) {
      await started.close();
      throw error;
    }
  }
  const catcher = mail;
  return {
    url: started.url,
    port: started.port,
    graph: started,
    inbox,
    templates: seeds.length,
    smtpUrl: catcher?.url,
    async close() {
      await Promise.all([started.close(), catcher?.close()]);
    },
  };
}
