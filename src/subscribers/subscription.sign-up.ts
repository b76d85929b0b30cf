// The sign-up transaction (POST /subscribe, docs/subscribers.md, "Consent"): create or update the
// subscriber found by phone or email, lift tombstones (the person is opting in themselves), and
// record one opt-in consent event per ticked channel. WhatsApp is active at once (the consent box);
// email waits for its double opt-in unless this very address is already confirmed. Consent belongs
// to an address: an address that changes without its channel being ticked again loses that consent.
import { randomUUID } from 'node:crypto';
import { InvalidInput } from '../shared/errors.ts';
import type { Channel, Locale } from '../shared/vocabulary.ts';
import type { Sql } from '../store/pool.ts';
import type { ChannelState } from './subscriber.repository.ts';
import * as repo from './subscriber.repository.ts';
import type { SubscriberInput } from './subscriber.schema.ts';

export interface SignUpEvidence {
  readonly source: string;
  /** e.g. "consent-v1" */
  readonly consentVersion: string;
  /** The exact consent text the person saw, in their language. */
  readonly consentText: string;
  readonly pageLocale: Locale;
  /** Kept only when config.consentRecordIp is true. */
  readonly ip?: string;
  readonly userAgent?: string;
  /** Signed up on a campaign's own page: the campaign, and the tag that puts the subscriber in
   *  its audience (none when its audience is everyone). */
  readonly campaign?: { readonly id: string; readonly tag: string | undefined };
}

export interface SignUpResult {
  readonly subscriberId: string;
  readonly created: boolean;
  /** The channels this sign-up changed, and their new state. */
  readonly channels: Readonly<Partial<Record<Channel, ChannelState>>>;
  /** Every channel active after the sign-up (ticked now or earlier). */
  readonly activeChannels: readonly Channel[];
  /** Present when the email channel waits for its double opt-in. */
  readonly confirmation?: {
    readonly subscriberId: string;
    readonly email: string;
    readonly name: string;
    readonly locale: Locale;
  };
}

/** Phone and email belong to two different subscribers: one sign-up cannot merge them. */
export class SignUpConflictError extends InvalidInput {
  constructor() {
    super('This phone number and this email address belong to two different subscriptions', [
      { path: 'email', rule: 'belongs to another subscription than the phone number' },
    ]);
    this.name = 'SignUpConflictError';
  }
}

/** An id for a subscriber created by the web form (CSV ids are the operator's). */
export function newSubscriberId(): string {
  return `web-${randomUUID()}`;
}

export interface SignUpOptions {
  /** Keys tombstone hashes (config.secretKey). */
  readonly secretKey: string;
  /** Keep the IP and user agent in the evidence (config.consentRecordIp). */
  readonly consentRecordIp: boolean;
}

export async function signUpInTransaction(
  sql: Sql,
  options: SignUpOptions,
  input: SubscriberInput,
  evidence: SignUpEvidence,
  now: number,
): Promise<SignUpResult> {
  const phone = input.phone ?? null;
  const email = input.email ?? null;
  const matches = await repo.lockByPhoneOrEmail(sql, phone, email);
  if (matches.length > 1) throw new SignUpConflictError();
  const existing = matches[0];
  const id = existing?.id ?? input.id;
  const fields: repo.SubscriberFields = {
    name: input.name,
    phone: phone ?? existing?.phone ?? null,
    email: email ?? existing?.email ?? null,
    locale: input.locale,
    timezone: input.timezone,
    attributes: input.attributes,
  };
  if (existing) await repo.updateSubscriber(sql, id, fields, now);
  else await repo.insertSubscriber(sql, id, fields, now);
  if (evidence.campaign?.tag !== undefined) await repo.addTag(sql, id, evidence.campaign.tag);

  // The person is opting in themselves: an earlier erasure of these addresses is lifted.
  const cleared = await repo.clearTombstones(sql, options.secretKey, { phone, email });
  const base: Record<string, unknown> = {
    consentVersion: evidence.consentVersion,
    consentText: evidence.consentText,
    pageLocale: evidence.pageLocale,
    ...(input.attributes.assistant ? { assistant: input.attributes.assistant } : {}),
    timezone: input.timezone,
    // Which page: a campaign's own (/subscribe/<id>), or the general form.
    page: evidence.campaign ? `/subscribe/${evidence.campaign.id}` : '/subscribe',
    ...(evidence.campaign ? { campaignId: evidence.campaign.id } : {}),
    ...(evidence.campaign?.tag !== undefined ? { tagAdded: evidence.campaign.tag } : {}),
    ...(cleared.length > 0 ? { tombstoneCleared: cleared } : {}),
    ...(existing?.done_at ? { doneCleared: true } : {}),
    ...(options.consentRecordIp ? { ip: evidence.ip, userAgent: evidence.userAgent } : {}),
  };
  const current: Map<Channel, repo.ChannelRow> = existing ? await repo.lockChannels(sql, id) : new Map();
  const states: Partial<Record<Channel, ChannelState>> = {};
  const event = (channel: Channel, kind: repo.ConsentKind, extra: Record<string, unknown>) =>
    repo.appendConsentEvent(sql, {
      subscriberId: id,
      channel,
      kind,
      source: evidence.source,
      evidence: { ...base, ...extra },
      occurredAt: now,
    });

  for (const channel of ['whatsapp', 'email'] as const) {
    const address = channel === 'whatsapp' ? fields.phone : fields.email;
    const before = current.get(channel);
    const addressChanged =
      existing !== undefined && address !== (channel === 'whatsapp' ? existing.phone : existing.email);
    if (input.channels.includes(channel)) {
      // WhatsApp: the consent box is the consent. Email: double opt-in, unless this very
      // address is already confirmed.
      const state: ChannelState =
        channel === 'whatsapp' || (before?.state === 'active' && !addressChanged) ? 'active' : 'pending';
      await repo.setChannel(sql, id, channel, state, state === 'active' ? now : null, now);
      await event(channel, 'opt_in', { address, state });
      states[channel] = state;
    } else if (addressChanged && (before?.state === 'active' || before?.state === 'pending')) {
      await repo.setChannel(sql, id, channel, 'unsubscribed', undefined, now);
      await event(channel, 'opt_out', { reason: 'address-changed' });
      states[channel] = 'unsubscribed';
    }
  }
  const confirmation =
    states.email === 'pending' && fields.email
      ? { subscriberId: id, email: fields.email, name: input.name, locale: input.locale }
      : undefined;
  const activeChannels = (['whatsapp', 'email'] as const).filter(
    (c) => (states[c] ?? current.get(c)?.state) === 'active',
  );
  return {
    subscriberId: id,
    created: !existing,
    channels: states,
    activeChannels,
    ...(confirmation ? { confirmation } : {}),
  };
}
