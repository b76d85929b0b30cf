// What a subscriber says on WhatsApp, and Meta's own marketing stop/resume (docs/subscribers.md):
// STOP and its synonyms stop the WhatsApp channel, START resumes it (only for someone who consented
// before), FAIT / DONE mark the subscriber done; each is answered in their language.
// - Each inbound message is acted on once, by Meta's message id (redeliveries come in new batches).
// - A command older than the person's latest choice on WhatsApp (a web opt-in, an unsubscribe, an
//   earlier-processed STOP or START) is stale and ignored: Meta does not guarantee order.
// - A sender who is not a subscriber is ignored, and logged without their number.
// - Meta names a sender by phone (`from`, `wa_id`) and, since 2026, by a business-scoped user id
//   (BSUID); a user who adopted a username may come with the BSUID alone. The BSUID (and the
//   username, for display) is stored when it comes with a phone Lastcall knows; a sender without
//   a phone is matched on the stored BSUID, and answered with `recipient: <BSUID>`.
import { parsePhoneNumberWithError } from 'libphonenumber-js/max';
import type { Logger } from '../shared/logger.ts';
import { webhookItemsTotal } from '../shared/metrics.ts';
import type { Db } from '../store/pool.ts';
import type { WhatsAppAddress } from '../subscribers/subscriber.repository.ts';
import type { SubscriptionService } from '../subscribers/subscription.service.ts';
import * as repo from './webhook.repository.ts';
import { commandOf, type InboundCommand, normaliseReply, replyText } from './webhook-commands.ts';
import type { IdentityItem, InboundItem, NumberChangeItem, PreferenceItem } from './webhook-payload.ts';
import type { ReplyRecipient, WhatsAppReplier } from './webhook-replies.ts';

export interface InboundDeps {
  readonly db: Db;
  readonly subscriptions: Pick<SubscriptionService, 'stopWhatsApp' | 'resumeWhatsApp' | 'markDone'>;
  /** Undefined: commands are applied but not answered (WhatsApp sending not configured). */
  readonly replier: WhatsAppReplier | undefined;
  readonly logger: Logger;
}

export const REPLY_SOURCE = 'whatsapp-reply';
export const PREFERENCE_SOURCE = 'whatsapp-marketing-preference';

/** Meta's timestamps have whole seconds: a choice less than a second later is not "after". */
const isStale = (at: number, sender: repo.WhatsAppSender) =>
  sender.lastChoiceAt !== null && at + 1000 <= sender.lastChoiceAt.getTime();

/** The moment a person acted: Meta's timestamp, never later than now. */
const actedAt = (at: number | undefined, now: number) => Math.min(at ?? now, now);

export async function handleInbound(deps: InboundDeps, item: InboundItem, now: number): Promise<string> {
  const outcome = await inboundOutcome(deps, item, now);
  webhookItemsTotal.inc({ kind: 'inbound', outcome });
  return outcome;
}

/** Who the sender is as Meta named them: the phone when given, else the BSUID. */
function addressOf(waId: string | undefined, userId: string | undefined): WhatsAppAddress | undefined {
  if (waId !== undefined) return { phone: `+${waId}` };
  return userId !== undefined ? { userId } : undefined;
}

async function inboundOutcome(deps: InboundDeps, item: InboundItem, now: number): Promise<string> {
  const who = addressOf(item.from, item.userId);
  const command = commandOf(item.texts);
  if (!command) {
    // Any message may teach us who a subscriber is on WhatsApp, and opens their service window.
    if (who) await learn(deps, who, item, now, actedAt(item.at, now));
    return 'not-a-command';
  }
  if (!who) return 'no-wa-id';
  if (await repo.inboundHandled(deps.db, item.messageId)) return 'duplicate';
  const at = actedAt(item.at, now);
  const sender = await learn(deps, who, item, now, at);
  let action: string;
  if (!sender) {
    deps.logger.info(
      { messageId: item.messageId, command },
      'WhatsApp command from a number that is not a subscriber',
    );
    action = 'unknown-sender';
  } else if (command !== 'done' && isStale(at, sender)) {
    deps.logger.info({ subscriberId: sender.id, command }, 'stale WhatsApp command ignored');
    action = 'stale';
  } else {
    const answer = await apply(deps, command, who, sender, at, {
      messageId: item.messageId,
      keyword: normaliseReply(item.texts.find((t) => commandOf([t])) ?? ''),
      ...('userId' in who ? { matchedBy: 'business-scoped user id' } : {}),
    });
    action = answer ? command : `${command}-refused`;
    if (answer)
      await reply(deps, 'phone' in who ? { waId: who.phone } : { userId: who.userId }, command, sender);
  }
  await repo.recordInbound(deps.db, item.messageId, action, new Date(now));
  return action;
}

/** The subscriber the sender is, after storing the BSUID and username that came with them (and,
 *  for a message they wrote at `wroteAt`, that their customer-service window is open). */
async function learn(
  deps: InboundDeps,
  who: WhatsAppAddress,
  item: { readonly userId: string | undefined; readonly username?: string | undefined },
  now: number,
  wroteAt?: number,
): Promise<repo.WhatsAppSender | undefined> {
  const sender = await repo.findWhatsAppSender(deps.db, who);
  if (sender && wroteAt !== undefined) await repo.noteInbound(deps.db, sender.id, new Date(wroteAt));
  if (sender && (await repo.learnWhatsAppIdentity(deps.db, sender.id, item, new Date(now))))
    webhookItemsTotal.inc({ kind: 'identity', outcome: 'learned' });
  return sender;
}

/** Applies the command; true when it deserves the confirmation reply. */
async function apply(
  deps: InboundDeps,
  command: InboundCommand,
  who: WhatsAppAddress,
  sender: repo.WhatsAppSender,
  at: number,
  evidence: Record<string, unknown>,
): Promise<boolean> {
  if (command === 'stop') {
    await deps.subscriptions.stopWhatsApp(who, REPLY_SOURCE, at, evidence);
    return true;
  }
  if (command === 'done') {
    await deps.subscriptions.markDone(sender.id, REPLY_SOURCE, at);
    return true;
  }
  const resumed = await deps.subscriptions.resumeWhatsApp(who, REPLY_SOURCE, at, evidence);
  if (resumed.changed || sender.whatsappState === 'active') return true;
  // No earlier consent to WhatsApp to go back to: START is not a sign-up.
  deps.logger.info({ subscriberId: sender.id }, 'START without an earlier WhatsApp consent: not resumed');
  return false;
}

async function reply(
  deps: InboundDeps,
  to: ReplyRecipient,
  command: InboundCommand,
  sender: repo.WhatsAppSender,
): Promise<void> {
  if (!deps.replier) return;
  const result = await deps.replier.sendText(to, replyText(command, sender.locale));
  webhookItemsTotal.inc({ kind: 'reply', outcome: result.ok ? 'sent' : 'failed' });
  if (!result.ok)
    deps.logger.warn({ subscriberId: sender.id, command, code: result.code }, 'WhatsApp reply not sent');
}

/** Meta's marketing stop/resume (`user_preferences`): switches the channel, answers nothing. */
export async function handlePreference(
  deps: InboundDeps,
  item: PreferenceItem,
  now: number,
): Promise<string> {
  const who = addressOf(item.waId, item.userId);
  const at = actedAt(item.at, now);
  const sender = who ? await learn(deps, who, { userId: item.userId }, now) : undefined;
  let outcome: string;
  if (!who || !sender) outcome = 'unknown-sender';
  else if (isStale(at, sender)) outcome = 'stale';
  else {
    const evidence = { category: item.category ?? null, value: item.value };
    const result =
      item.value === 'stop'
        ? await deps.subscriptions.stopWhatsApp(who, PREFERENCE_SOURCE, at, evidence)
        : await deps.subscriptions.resumeWhatsApp(who, PREFERENCE_SOURCE, at, evidence);
    outcome = result.changed ? item.value : `${item.value}-unchanged`;
  }
  webhookItemsTotal.inc({ kind: 'preference', outcome });
  if (outcome !== item.value) deps.logger.info({ outcome, subscriberId: sender?.id }, 'marketing preference');
  return outcome;
}

/** `user_changed_user_id`: Meta gave the person a new BSUID; the stored one follows. */
export async function handleIdentityChange(
  deps: InboundDeps,
  item: IdentityItem,
  now: number,
): Promise<string> {
  const subscriberId = await deps.db.tx((sql) =>
    repo.replaceWhatsAppUserId(sql, item.previousUserId, item.userId, new Date(now)),
  );
  const outcome = subscriberId ? 'replaced' : 'unknown-user';
  webhookItemsTotal.inc({ kind: 'identity', outcome });
  deps.logger.info({ subscriberId, outcome }, 'WhatsApp user id changed');
  return outcome;
}

/**
 * `user_changed_number` (docs/whatsapp.md, "Usernames and business-scoped user ids"): the person
 * Meta names by their old number (or BSUID) now uses the new one; reminders go there, with the
 * consent they gave. The new number is read by libphonenumber; one that is not a possible number,
 * or that another subscriber has, changes nothing (logged, without numbers).
 */
export async function handleNumberChange(deps: InboundDeps, item: NumberChangeItem): Promise<string> {
  let phone: string | undefined;
  try {
    const parsed = parsePhoneNumberWithError(`+${item.newWaId.replace(/^\+/, '')}`);
    if (parsed.isPossible()) phone = parsed.number;
  } catch {
    phone = undefined;
  }
  const result = phone
    ? await deps.db.tx((sql) =>
        repo.changeSubscriberPhone(
          sql,
          { oldPhone: item.from && `+${item.from}`, userId: item.userId },
          phone,
        ),
      )
    : { outcome: 'bad-number' as const, subscriberId: undefined };
  webhookItemsTotal.inc({ kind: 'number', outcome: result.outcome });
  const log = { subscriberId: result.subscriberId, outcome: result.outcome };
  if (result.outcome === 'number-taken' || result.outcome === 'bad-number')
    deps.logger.warn(log, 'WhatsApp user changed number: not applied');
  else deps.logger.info(log, 'WhatsApp user changed number');
  return result.outcome;
}
