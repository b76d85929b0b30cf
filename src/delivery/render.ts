// Turns a claimed delivery into what a channel sends: the step's template in the subscriber's
// language, the deadline written in their zone, and signed links (unsubscribe from this
// channel, "I'm done"). Templates are read from disk once per folder, locale and name.
import { buildMessageVars } from '../campaigns/message-vars.ts';
import {
  loadMessageTemplates,
  type MessageTemplate,
  renderEmail,
  renderWhatsApp,
  SHIPPED_MESSAGES_DIR,
} from '../campaigns/messages.ts';
import { returnPathAddress } from '../subscribers/return-path.ts';
import { createToken } from '../subscribers/tokens.ts';
import { senderAddress, unsubscribeMailto } from '../subscribers/unsubscribe-mailto.ts';
import type { EmailSend } from './channels/email.ts';
import type { TemplateSend } from './channels/whatsapp.ts';
import type { ClaimedDelivery } from './send.repository.ts';

export interface RenderConfig {
  readonly publicUrl: string;
  readonly secretKey: string;
  /** Sender address (MAIL_FROM): its domain names our Message-IDs. */
  readonly mailFrom?: string | undefined;
  /** config.unsubscribeSmtp?.mailbox: where the List-Unsubscribe mailto goes. */
  readonly unsubscribeMailbox?: string | undefined;
  /** config.unsubscribeSmtp?.returnPathDomain: set, each email's envelope sender is
   *  bounce+<token>@ this host, so its bounces and complaints come back to `serve`. */
  readonly returnPathDomain?: string | undefined;
}

export type RenderedDelivery =
  | { readonly channel: 'whatsapp'; readonly message: TemplateSend }
  | { readonly channel: 'email'; readonly message: EmailSend };

type Eligible = ClaimedDelivery & { subscriber: NonNullable<ClaimedDelivery['subscriber']> };

export class DeliveryRenderer {
  readonly #config: RenderConfig;
  readonly #templates = new Map<string, Promise<MessageTemplate>>();

  constructor(config: RenderConfig) {
    this.#config = config;
  }

  async render(d: Eligible, template: string, now: number): Promise<RenderedDelivery> {
    const s = d.subscriber;
    const { publicUrl, secretKey } = this.#config;
    const unsubscribe = createToken(
      secretKey,
      { action: 'unsubscribe', subscriberId: s.id, channel: d.channel },
      now,
    );
    const done = createToken(secretKey, { action: 'done', subscriberId: s.id }, now);
    const vars = buildMessageVars({
      name: s.name,
      locale: s.locale,
      timezone: s.timezone,
      attributes: s.attributes,
      deadline: d.campaign.deadline,
      now,
      links: {
        unsubscribeUrl: `${publicUrl}/unsubscribe/${unsubscribe}`,
        doneUrl: `${publicUrl}/done/${done}`,
        // The help page takes its facts (deadline, reminders) from this campaign.
        helpUrl: `${publicUrl}/help?campaign=${encodeURIComponent(d.campaignId)}`,
      },
      publicUrl,
    });
    const loaded = await this.#template(d.campaign.messagesDir ?? SHIPPED_MESSAGES_DIR, s.locale, template);
    if (d.channel === 'whatsapp') {
      // A phone when Lastcall has one; else the BSUID Meta gave (sent as `recipient`, never `to`).
      const address = s.phone ? { to: s.phone } : s.whatsappUserId ? { userId: s.whatsappUserId } : undefined;
      if (!address) throw new MissingAddressError('phone');
      const wa = renderWhatsApp(loaded, vars);
      return {
        channel: 'whatsapp',
        message: {
          ...address,
          templateName: wa.name,
          language: wa.language,
          bodyParams: [...wa.bodyParams],
          ...(wa.button ? { buttonUrlParam: wa.button.param, buttonIndex: 0 } : {}),
          callbackData: String(d.id),
        },
      };
    }
    if (!s.email) throw new MissingAddressError('email');
    const from = this.#config.mailFrom;
    if (!from) throw new Error('MAIL_FROM is not set: the email channel needs a sender address');
    const email = renderEmail(loaded, vars);
    const domain = senderDomain(from);
    return {
      channel: 'email',
      message: {
        to: s.email,
        from,
        ...email,
        // Stable per delivery: a provider or a reader can tell a resend from a new message.
        messageId: `<delivery-${d.id}.${d.campaignId}@${domain}>`,
        ...(this.#config.returnPathDomain
          ? { returnPath: returnPathAddress(secretKey, d.id, this.#config.returnPathDomain) }
          : {}),
        unsubscribeUrl: vars.unsubscribeUrl,
        unsubscribeMailto: unsubscribeMailto({
          mailbox: this.#config.unsubscribeMailbox,
          mailFrom: from,
          token: unsubscribe,
        }),
        ics: {
          // One event per campaign: each reminder updates it rather than adding another.
          uid: `deadline-${d.campaignId}@${domain}`,
          start: new Date(d.campaign.deadline),
          summary: d.campaign.name,
          description: email.subject,
          url: vars.helpUrl,
        },
      },
    };
  }

  #template(dir: string, locale: string, name: string): Promise<MessageTemplate> {
    const key = `${dir}\u0000${locale}\u0000${name}`;
    let cached = this.#templates.get(key);
    if (!cached) {
      cached = loadMessageTemplates(dir, locale, name);
      // A failed read is not cached: the operator may fix the file while workers run.
      cached.catch(() => this.#templates.delete(key));
      this.#templates.set(key, cached);
    }
    return cached;
  }
}

/** The subscriber has no phone (or email) for the channel the delivery is on. */
export class MissingAddressError extends Error {
  constructor(field: 'phone' | 'email') {
    super(`the subscriber has no ${field}`);
    this.name = 'MissingAddressError';
  }
}

function senderDomain(mailFrom: string): string {
  return senderAddress(mailFrom).split('@')[1]?.toLowerCase() ?? 'lastcall.invalid';
}
