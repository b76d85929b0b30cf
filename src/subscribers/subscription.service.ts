// Opt-in and opt-out (docs/subscribers.md, "Consent"): the one place that changes a subscriber's
// consent. The HTTP pages, the WhatsApp webhook and the CLI call these methods; each runs in one
// transaction and appends a consent event for every change (consent_events is append-only). The
// sign-up transaction itself is in subscription.sign-up.ts. A sign-up from a web page
// (signUpFromPage) is decided here too: which channels the page offers, the consent text recorded
// as evidence, and the double opt-in email sent after the commit; the HTTP route only reads the
// form and renders the answer.

import { recordEvent } from '../events/outbox.ts';
import type { ConfirmationMailer, MailOutcome } from '../http/confirmation-email.ts';
import { CONSENT_VERSION, MESSAGES } from '../http/i18n.ts';
import type { Logger } from '../shared/logger.ts';
import type { Channel, Locale } from '../shared/vocabulary.ts';
import type { Db, Sql } from '../store/pool.ts';
import type { ChannelState, SubscriberRow } from './subscriber.repository.ts';
import * as repo from './subscriber.repository.ts';
import type { SubscriberInput } from './subscriber.schema.ts';
import { type SignUpEvidence, type SignUpResult, signUpInTransaction } from './subscription.sign-up.ts';
import type { UnsubscribeScope } from './tokens.ts';

export { isTombstoned } from './subscriber.repository.ts';
export {
  newSubscriberId,
  SignUpConflictError,
  type SignUpEvidence,
  type SignUpResult,
} from './subscription.sign-up.ts';

export type ConfirmStatus = 'confirmed' | 'already-confirmed' | 'not-pending' | 'unknown-subscriber';
export interface LinkResult {
  readonly found: boolean;
  readonly changed: boolean;
  readonly locale?: Locale;
  /** doneLinkState: the subscriber already said they are done. */
  readonly done?: boolean;
}

export interface SubscriptionDeps {
  readonly db: Db;
  /** Keys tombstone hashes (config.secretKey). */
  readonly secretKey: string;
  readonly consentRecordIp: boolean;
  readonly logger?: Logger;
  /** Called after the commit when a subscriber has an active channel after a sign-up, an email
   * confirmation or a WhatsApp resume: the delivery pipeline plans their reminders. Errors are
   * logged, never thrown back at the person signing up. */
  readonly onSubscriberActivated?: (subscriberId: string) => Promise<void> | void;
  /** The channels this server sends on (the configured ones): a sign-up page offers no other. */
  readonly channels: readonly Channel[];
  /** Who sends the reminders (config.senderName), named in the consent text. */
  readonly senderName: string;
  /** Sends the double opt-in email of a web sign-up. */
  readonly mailer: ConfirmationMailer;
}

/** The `source` of a consent given on the web sign-up form. */
export const WEB_SOURCE = 'web-form';

/** Where and how a web sign-up was made. */
export interface SignUpPage {
  /** The page's language: the consent text's and the confirmation email's. */
  readonly locale: Locale;
  /** The campaign whose own page it was, if any (its audience tag is added; its channels bound
   *  the ones offered; its name is in the confirmation email). */
  readonly campaign?: {
    readonly id: string;
    readonly tag: string | undefined;
    readonly name: string;
    readonly channels: readonly Channel[];
  };
  /** Kept in the evidence only when config.consentRecordIp is true. */
  readonly ip?: string;
  readonly userAgent?: string;
}

export interface PageSignUpResult extends SignUpResult {
  /** The confirmation email: sent, skipped (email off) or failed; `active` when the address was
   *  already confirmed, `none` when the email channel was not asked for. */
  readonly mail: MailOutcome | 'active' | 'none';
}

const UNIQUE_VIOLATION = '23505';
const localeOf = (row: SubscriberRow | undefined): Locale | undefined =>
  row?.locale === 'fr' || row?.locale === 'en' ? row.locale : undefined;

export function createSubscriptionService(deps: SubscriptionDeps) {
  const { db } = deps;

  async function activated(subscriberId: string): Promise<void> {
    if (!deps.onSubscriberActivated) return;
    try {
      await deps.onSubscriberActivated(subscriberId);
    } catch (error) {
      // The consent is committed and stands; the planning failure is the pipeline's to report.
      const reason = error instanceof Error ? error.message : String(error);
      deps.logger?.error({ subscriberId, reason }, 'onSubscriberActivated failed');
    }
  }

  const signUpOnce = (input: SubscriberInput, evidence: SignUpEvidence, now: number) =>
    db.tx((sql) => signUpInTransaction(sql, deps, input, evidence, now));

  /** Creates or updates the subscriber found by phone or email (never a duplicate). */
  async function signUp(
    input: SubscriberInput,
    evidence: SignUpEvidence,
    now: number,
  ): Promise<SignUpResult> {
    let result: SignUpResult;
    try {
      result = await signUpOnce(input, evidence, now);
    } catch (error) {
      // Two first sign-ups with one address raced past the lookup: the second now finds the first.
      if ((error as { code?: string }).code !== UNIQUE_VIOLATION) throw error;
      result = await signUpOnce(input, evidence, now);
    }
    // Also for a subscriber already active: their zone or channels may have changed.
    if (result.activeChannels.length > 0) await activated(result.subscriberId);
    return result;
  }

  /** The channels a sign-up page offers: the server's, narrowed to the campaign's on its page. */
  function channelsOffered(campaign?: { readonly channels: readonly Channel[] }): Channel[] {
    return deps.channels.filter((c) => campaign === undefined || campaign.channels.includes(c));
  }

  /** The consent text next to the page's box, recorded word for word with the consent. */
  function consentText(locale: Locale, channels: readonly Channel[]): string {
    const m = MESSAGES[locale];
    const only = channels.length === 1 ? channels[0] : undefined;
    return only
      ? m.form.consent.textOne(
          deps.senderName,
          only === 'whatsapp' ? 'WhatsApp' : m.campaign.channelNames.email,
        )
      : m.form.consent.text(deps.senderName);
  }

  return {
    signUp,
    channelsOffered,
    consentText,

    /**
     * A sign-up from the web form (`input` already checked against the channels the page
     * offered): the consent is recorded with the text the page showed, then the double opt-in
     * email goes out when the email channel waits for it. A failed email is told, and the
     * sign-up stays (signing up again sends a new link).
     */
    async signUpFromPage(input: SubscriberInput, page: SignUpPage, now: number): Promise<PageSignUpResult> {
      const { campaign } = page;
      const result = await signUp(
        input,
        {
          source: WEB_SOURCE,
          consentVersion: CONSENT_VERSION,
          consentText: consentText(page.locale, channelsOffered(campaign)),
          pageLocale: page.locale,
          ...(campaign ? { campaign: { id: campaign.id, tag: campaign.tag } } : {}),
          ...(page.ip !== undefined ? { ip: page.ip } : {}),
          ...(page.userAgent !== undefined ? { userAgent: page.userAgent } : {}),
        },
        now,
      );
      const mail = result.confirmation
        ? await deps.mailer.send(
            { ...result.confirmation, ...(campaign ? { campaignName: campaign.name } : {}) },
            now,
          )
        : result.channels.email === 'active' || result.activeChannels.includes('email')
          ? 'active'
          : 'none';
      return { ...result, mail };
    },

    /** The double opt-in link. Idempotent; an unsubscribed channel is not revived by an old link. */
    async confirmEmail(
      subscriberId: string,
      now: number,
    ): Promise<{ status: ConfirmStatus; locale?: Locale }> {
      const outcome = await db.tx(async (sql) => {
        const subscriber = await repo.lockById(sql, subscriberId);
        if (!subscriber) return { status: 'unknown-subscriber' as const };
        const locale = localeOf(subscriber);
        const channel = (await repo.lockChannels(sql, subscriberId)).get('email');
        if (channel?.state === 'active') return { status: 'already-confirmed' as const, locale };
        if (channel?.state !== 'pending' || !subscriber.email)
          return { status: 'not-pending' as const, locale };
        await repo.setChannel(sql, subscriberId, 'email', 'active', now, now);
        await repo.appendConsentEvent(sql, {
          subscriberId,
          channel: 'email',
          kind: 'confirm',
          source: 'confirm-link',
          evidence: { address: subscriber.email },
          occurredAt: now,
        });
        await recordEvent(
          sql,
          { type: 'subscriber.confirmed', subscriberId, data: { channel: 'email' } },
          now,
        );
        return { status: 'confirmed' as const, locale };
      });
      if (outcome.status === 'confirmed') await activated(subscriberId);
      return outcome;
    },

    /** Ends consent on one channel or all. Already-off channels are left as they are. */
    async unsubscribe(subscriberId: string, scope: UnsubscribeScope, source: string, now: number) {
      // `continuing`: the channels still active outside the scope, for the page to name.
      return db.tx(async (sql): Promise<LinkResult & { channels: Channel[]; continuing: Channel[] }> => {
        const subscriber = await repo.lockById(sql, subscriberId);
        if (!subscriber) return { found: false, changed: false, channels: [], continuing: [] };
        const changed: Channel[] = [];
        const continuing: Channel[] = [];
        for (const [channel, row] of await repo.lockChannels(sql, subscriberId)) {
          if (scope !== 'all' && scope !== channel) {
            if (row.state === 'active' && subscriber.done_at === null) continuing.push(channel);
            continue;
          }
          if (row.state !== 'active' && row.state !== 'pending') continue;
          await repo.setChannel(sql, subscriberId, channel, 'unsubscribed', undefined, now);
          await repo.appendConsentEvent(sql, {
            subscriberId,
            channel,
            kind: 'opt_out',
            source,
            evidence: { scope, previousState: row.state },
            occurredAt: now,
          });
          await recordEvent(
            sql,
            { type: 'subscriber.unsubscribed', subscriberId, data: { channel, source } },
            now,
          );
          changed.push(channel);
        }
        return {
          found: true,
          changed: changed.length > 0,
          channels: changed,
          continuing,
          locale: localeOf(subscriber),
        };
      });
    },

    /** What the done page shows before its button is pressed (a GET acts on nothing). */
    async doneLinkState(subscriberId: string): Promise<LinkResult> {
      const subscriber = await repo.findById(db, subscriberId);
      if (!subscriber) return { found: false, changed: false };
      return { found: true, changed: false, locale: localeOf(subscriber), done: subscriber.done_at !== null };
    },

    /** "I have exported": no more reminders on any channel. Idempotent. */
    async markDone(subscriberId: string, source: string, now: number): Promise<LinkResult> {
      return db.tx(async (sql) => {
        const subscriber = await repo.lockById(sql, subscriberId);
        if (!subscriber) return { found: false, changed: false };
        const changed = await repo.markDone(sql, subscriberId, now);
        if (changed) {
          await repo.appendConsentEvent(sql, {
            subscriberId,
            channel: null,
            kind: 'done',
            source,
            evidence: {},
            occurredAt: now,
          });
          await recordEvent(sql, { type: 'subscriber.done', subscriberId, data: { source } }, now);
        }
        return { found: true, changed, locale: localeOf(subscriber) };
      });
    },

    /** A STOP reply (or Meta's marketing opt-out). `who`: a phone (E.164, or a WhatsApp id in
     *  digits), or the BSUID of a user Meta names without a phone. */
    async stopWhatsApp(
      who: string | repo.WhatsAppAddress,
      source: string,
      now: number,
      evidence: Record<string, unknown> = {},
    ) {
      return db.tx((sql) => switchWhatsApp(sql, address(who), 'stop', source, now, evidence));
    },

    /** A START reply: only a subscriber who once consented to WhatsApp is switched back on. */
    async resumeWhatsApp(
      who: string | repo.WhatsAppAddress,
      source: string,
      now: number,
      evidence: Record<string, unknown> = {},
    ) {
      const result = await db.tx((sql) => switchWhatsApp(sql, address(who), 'resume', source, now, evidence));
      if (result.changed && result.subscriberId) await activated(result.subscriberId);
      return result;
    },
  };
}

export type SubscriptionService = ReturnType<typeof createSubscriptionService>;

function e164(phone: string): string {
  const trimmed = phone.trim();
  return trimmed.startsWith('+') ? trimmed : `+${trimmed}`;
}

function address(who: string | repo.WhatsAppAddress): repo.WhatsAppAddress {
  if (typeof who === 'string') return { phone: e164(who) };
  return 'phone' in who ? { phone: e164(who.phone) } : who;
}

async function switchWhatsApp(
  sql: Sql,
  who: repo.WhatsAppAddress,
  action: 'stop' | 'resume',
  source: string,
  now: number,
  evidence: Record<string, unknown>,
): Promise<LinkResult & { subscriberId?: string }> {
  const subscriber = await repo.lockByWhatsApp(sql, who);
  if (!subscriber) return { found: false, changed: false };
  const id = subscriber.id;
  const row = (await repo.lockChannels(sql, id)).get('whatsapp');
  const state = row?.state;
  let change: { to: ChannelState; kind: repo.ConsentKind } | undefined;
  // A STOP on a bounced number is still the person's own word: recorded, and it outlasts the bounce.
  if (action === 'stop' && (state === 'active' || state === 'pending' || state === 'bounced'))
    change = { to: 'stopped', kind: 'opt_out' };
  if (
    action === 'resume' &&
    // A bounced number (131026) that writes START is reachable again.
    (state === 'stopped' || state === 'unsubscribed' || state === 'bounced') &&
    (await repo.everConsented(sql, id, 'whatsapp'))
  )
    change = { to: 'active', kind: 'resume' };
  if (change) {
    await repo.setChannel(sql, id, 'whatsapp', change.to, change.to === 'active' ? now : undefined, now);
    await repo.appendConsentEvent(sql, {
      subscriberId: id,
      channel: 'whatsapp',
      kind: change.kind,
      source,
      evidence: { ...evidence, previousState: state },
      occurredAt: now,
    });
    if (change.to === 'stopped')
      await recordEvent(
        sql,
        { type: 'subscriber.stopped', subscriberId: id, data: { channel: 'whatsapp', source } },
        now,
      );
  }
  return { found: true, changed: change !== undefined, subscriberId: id, locale: localeOf(subscriber) };
}
