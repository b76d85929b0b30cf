// `send-test`: one step's message, rendered as a real subscriber would get it and sent at once
// to an address the operator gives (their own phone or mailbox), through the same renderer and
// channel adapters as the workers. It is recorded as a delivery of kind `test` with no
// subscriber (no subscriber row is created, and none is needed): the row keeps the provider's
// message id and outcome, and campaign stats leave test rows out. The row is written as
// `sending` and settled in the same call, so the workers' recovery never picks it up.
// The links in a test message are signed for a subscriber that does not exist ("send-test"):
// they open, but change nothing.
import { randomBytes } from 'node:crypto';
import { parsePhoneNumberWithError } from 'libphonenumber-js/max';
import { z } from 'zod';
import { findCampaign } from '../campaigns/campaign.repository.ts';
import { unknownCampaign } from '../campaigns/campaign.service.ts';
import { loadMessageTemplates, SHIPPED_MESSAGES_DIR } from '../campaigns/messages.ts';
import type { Config } from '../config/config.ts';
import type { SendOutcome } from '../delivery/channels/outcome.ts';
import { DeliveryRenderer } from '../delivery/render.ts';
import { recordAttempt } from '../delivery/send.repository.ts';
import type { ChannelSenders } from '../delivery/send.service.ts';
import { InvalidInput } from '../shared/errors.ts';
import type { Channel, Locale } from '../shared/vocabulary.ts';
import type { Db } from '../store/pool.ts';
import type { Attributes } from '../subscribers/subscriber.schema.ts';

export const TEST_SUBSCRIBER_ID = 'send-test';

export interface SendTestInput {
  readonly campaignId: string;
  readonly stepId: string;
  readonly to: string;
  readonly locale: Locale;
  /** The test subscriber's attributes, as templates read them (`attr.<name>`). */
  readonly attributes: Attributes;
  readonly timezone: string;
  readonly name: string;
}

export interface SendTestResult {
  readonly deliveryId: number;
  readonly campaign: string;
  readonly step: string;
  readonly template: string;
  readonly channel: Channel;
  readonly locale: Locale;
  readonly attributes: Attributes;
  readonly status: 'sent' | 'failed';
  readonly providerMessageId?: string;
  readonly error?: { readonly code: string; readonly detail: string };
}

export interface SendTestDeps {
  readonly db: Db;
  readonly config: Pick<Config, 'publicUrl' | 'secretKey' | 'email'> &
    Partial<Pick<Config, 'unsubscribeSmtp'>>;
  readonly channels: ChannelSenders;
}

/** E.164 → WhatsApp, an address → email; anything else is refused. */
export function recipientOf(to: string): { channel: Channel; address: string } {
  const text = to.trim();
  if (text.startsWith('+')) {
    try {
      const phone = parsePhoneNumberWithError(text);
      if (phone.isValid()) return { channel: 'whatsapp', address: phone.number };
    } catch {
      // refused below
    }
  } else if (z.email().safeParse(text.toLowerCase()).success) {
    return { channel: 'email', address: text.toLowerCase() };
  }
  throw new InvalidInput('Invalid --to', [
    {
      path: '--to',
      rule: 'must be a phone number in E.164 form (+33612345678) for WhatsApp, or an email address',
    },
  ]);
}

export async function sendTest(
  deps: SendTestDeps,
  input: SendTestInput,
  now: number,
): Promise<SendTestResult> {
  const { channel, address } = recipientOf(input.to);
  const record = await findCampaign(deps.db, input.campaignId);
  if (!record) throw unknownCampaign(input.campaignId);
  const step = record.campaign.steps.find((s) => s.id === input.stepId);
  if (!step) {
    throw new InvalidInput(`campaign "${record.id}" has no step "${input.stepId}"`, [
      { path: '--step', rule: `must be one of: ${record.campaign.steps.map((s) => s.id).join(', ')}` },
    ]);
  }
  if (!step.channels.includes(channel)) {
    throw new InvalidInput(`step "${step.id}" does not send by ${channel}`, [
      {
        path: '--to',
        rule: `step ${step.id} sends by ${step.channels.join(' and ')}: give a ${step.channels.includes('whatsapp') ? 'phone number' : 'email address'}`,
      },
    ]);
  }
  const sender = deps.channels[channel];
  if (!sender) {
    throw new InvalidInput(
      channel === 'whatsapp'
        ? 'WhatsApp is not configured: set WHATSAPP_TOKEN, WHATSAPP_PHONE_NUMBER_ID, WHATSAPP_APP_SECRET and WHATSAPP_VERIFY_TOKEN'
        : 'email is not configured: set SMTP_URL and MAIL_FROM',
    );
  }
  // A missing or broken template is bad input (exit 2), found before anything is recorded.
  const messagesDir = record.sourceDir ?? SHIPPED_MESSAGES_DIR;
  const template = await loadMessageTemplates(messagesDir, input.locale, step.template);
  if (template[channel] === undefined)
    throw new InvalidInput(`message template ${template.file} has no ${channel} part`);

  const at = new Date(now);
  const row = await deps.db.one<{ id: number }>(
    `INSERT INTO deliveries (campaign_id, step_id, subscriber_id, channel, kind, status, attempts, queued_at, updated_at)
     VALUES ($1, $2, NULL, $3, 'test', 'sending', 1, $4, $4) RETURNING id`,
    [record.id, step.id, channel, at],
  );
  const deliveryId = row!.id;
  const renderer = new DeliveryRenderer({
    publicUrl: deps.config.publicUrl,
    // A test message goes to no subscriber: its links need not verify, so the CLI may send one
    // without SECRET_KEY (a throwaway key signs them).
    secretKey: deps.config.secretKey ?? randomBytes(32).toString('hex'),
    mailFrom: deps.config.email?.from,
    unsubscribeMailbox: deps.config.unsubscribeSmtp?.mailbox,
    returnPathDomain: deps.config.unsubscribeSmtp?.returnPathDomain,
  });
  let outcome: SendOutcome;
  try {
    const rendered = await renderer.render(
      {
        id: deliveryId,
        campaignId: record.id,
        stepId: step.id,
        channel,
        kind: 'test',
        attempt: 1,
        campaign: {
          name: record.name,
          state: record.state,
          deadline: record.deadline,
          messagesDir: record.sourceDir,
          template: step.template,
        },
        subscriber: {
          id: TEST_SUBSCRIBER_ID,
          name: input.name,
          phone: channel === 'whatsapp' ? address : null,
          email: channel === 'email' ? address : null,
          locale: input.locale,
          timezone: input.timezone,
          attributes: input.attributes,
          done: false,
          channelState: 'active',
        },
      },
      step.template,
      now,
    );
    outcome =
      rendered.channel === 'whatsapp'
        ? await deps.channels.whatsapp!.sendTemplate(rendered.message)
        : await deps.channels.email!.sendEmail(rendered.message);
  } catch (error) {
    outcome = { outcome: 'permanent', code: 'render-error', detail: (error as Error).message };
  }
  const base = {
    deliveryId,
    campaign: record.id,
    step: step.id,
    template: step.template,
    channel,
    locale: input.locale,
    attributes: input.attributes,
  };
  if (outcome.outcome === 'sent') {
    await recordAttempt(deps.db, deliveryId, 1, { status: 'sent', providerMessageId: outcome.messageId }, at);
    return { ...base, status: 'sent', providerMessageId: outcome.messageId };
  }
  // A test is tried once: whatever the provider said, it is this attempt's answer.
  await recordAttempt(
    deps.db,
    deliveryId,
    1,
    { status: 'failed', code: outcome.code, detail: outcome.detail },
    at,
  );
  return { ...base, status: 'failed', error: { code: outcome.code, detail: outcome.detail } };
}
