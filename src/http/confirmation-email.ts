// The double opt-in email (docs/subscribers.md, "Consent"): fr/en text with the link
// `${PUBLIC_URL}/confirm/<token>`. It is sent during the sign-up request through the email channel;
// a failure is logged and told to the person, and the sign-up stays (signing up again sends a new
// link). With email off in config, nothing is sent and a log line says so.
import type { Config } from '../config/config.ts';
import { EmailChannel } from '../delivery/channels/email.ts';
import type { Logger } from '../shared/logger.ts';
import type { Locale } from '../shared/vocabulary.ts';
import { createToken } from '../subscribers/tokens.ts';
import { unsubscribeMailto } from '../subscribers/unsubscribe-mailto.ts';
import { MESSAGES } from './i18n.ts';
import { html } from './views/html.ts';

export interface Confirmation {
  readonly subscriberId: string;
  readonly email: string;
  readonly name: string;
  readonly locale: Locale;
  /** The name of the campaign whose page the person signed up on, if any. */
  readonly campaignName?: string;
}

export type MailOutcome = 'sent' | 'skipped' | 'failed';

export interface ConfirmationMailer {
  send(confirmation: Confirmation, now: number): Promise<MailOutcome>;
  close?(): void;
}

export type EmailSender = Pick<EmailChannel, 'sendEmail'>;

export function confirmUrl(
  config: Pick<Config, 'publicUrl'>,
  secretKey: string,
  subscriberId: string,
  now: number,
) {
  const token = createToken(secretKey, { action: 'confirm', subscriberId, channel: 'email' }, now);
  return `${config.publicUrl}/confirm/${token}`;
}

export function composeConfirmation(
  url: string,
  c: Confirmation,
  sender: string,
): { subject: string; text: string; html: string } {
  const m = MESSAGES[c.locale].email;
  const intro = m.body(sender, c.campaignName);
  const text = [m.greeting(c.name), '', intro, '', url, '', m.ignore, ''].join('\n');
  const body = html`<!doctype html><html lang="${c.locale}"><body style="font-family:sans-serif;line-height:1.5">
<p>${m.greeting(c.name)}</p>
<p>${intro}</p>
<p><a href="${url}" style="display:inline-block;padding:12px 20px;background:#00703c;color:#fff;text-decoration:none;border-radius:4px">${m.button}</a></p>
<p style="word-break:break-all"><a href="${url}">${url}</a></p>
<p>${m.ignore}</p>
</body></html>`;
  return { subject: m.subject, text, html: body.text };
}

export function createConfirmationMailer(options: {
  readonly config: Pick<Config, 'publicUrl' | 'email'> &
    Partial<Pick<Config, 'unsubscribeSmtp' | 'senderName'>>;
  readonly secretKey: string;
  readonly logger: Logger;
  /** Defaults to the email channel on SMTP_URL, owned (and closed) by this mailer. */
  readonly channel?: EmailSender;
}): ConfirmationMailer {
  const { config, secretKey, logger } = options;
  const email = config.email;
  const owned =
    !options.channel && email ? new EmailChannel({ smtpUrl: email.smtpUrl, timeoutMs: 15_000 }) : undefined;
  const channel = options.channel ?? owned;
  const host = new URL(config.publicUrl).hostname;
  const sender = config.senderName ?? new URL(config.publicUrl).host;
  return {
    async send(c, now) {
      if (!channel || !email) {
        logger.info(
          { subscriberId: c.subscriberId },
          'email is off (no SMTP_URL): confirmation email not sent',
        );
        return 'skipped';
      }
      const url = confirmUrl(config, secretKey, c.subscriberId, now);
      // The mail is also an unsubscribe point: whoever did not ask for it can refuse it at once.
      const unsubscribe = createToken(
        secretKey,
        { action: 'unsubscribe', subscriberId: c.subscriberId, channel: 'email' },
        now,
      );
      const result = await channel.sendEmail({
        to: c.email,
        from: email.from,
        ...composeConfirmation(url, c, sender),
        messageId: `<confirm.${c.subscriberId}.${now}@${host}>`,
        unsubscribeUrl: `${config.publicUrl}/unsubscribe/${unsubscribe}`,
        unsubscribeMailto: unsubscribeMailto({
          mailbox: config.unsubscribeSmtp?.mailbox,
          mailFrom: email.from,
          token: unsubscribe,
        }),
      });
      if (result.outcome === 'sent') {
        logger.info({ subscriberId: c.subscriberId }, 'confirmation email sent');
        return 'sent';
      }
      logger.error(
        { subscriberId: c.subscriberId, outcome: result.outcome, code: result.code },
        'confirmation email failed',
      );
      return 'failed';
    },
    close: () => owned?.close(),
  };
}
