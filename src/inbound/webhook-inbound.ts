// What a subscriber says on WhatsApp, and Meta's own marketing stop/resume (SPEC 7): STOP and
// its synonyms stop the WhatsApp channel, START resumes it (only for someone who consented
// before), FAIT / DONE mark the subscriber done; each is answered in their language.
// - Each inbound message is acted on once, by Meta's message id (redeliveries come in new batches).
// - A command older than the person's latest choice on WhatsApp (a web opt-in, an unsubscribe, an
//   earlier-processed STOP or START) is stale and ignored: Meta does not guarantee order.
// - A sender who is not a subscriber is ignored, and logged without their number.
import type { Logger } from '../shared/logger.ts';
import { webhookItemsTotal } from '../shared/metrics.ts';
import type { Db } from '../store/pool.ts';
import type { SubscriptionService } from '../subscribers/subscription.service.ts';
import * as repo from './webhook.repository.ts';
import { commandOf, type InboundCommand, normaliseReply, replyText } from './webhook-commands.ts';
import type { InboundItem, PreferenceItem } from './webhook-payload.ts';
import type { WhatsAppReplier } from './webhook-replies.ts';

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

async function inboundOutcome(deps: InboundDeps, item: InboundItem, now: number): Promise<string> {
  const command = commandOf(item.texts);
  if (!command) return 'not-a-command';
  if (!item.from) return 'no-wa-id';
  if (await repo.inboundHandled(deps.db, item.messageId)) return 'duplicate';
  const phone = `+${item.from}`;
  const at = actedAt(item.at, now);
  const sender = await repo.findSubscriberByPhone(deps.db, phone);
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
    const answer = await apply(deps, command, phone, sender, at, {
      messageId: item.messageId,
      keyword: normaliseReply(item.texts.find((t) => commandOf([t])) ?? ''),
    });
    action = answer ? command : `${command}-refused`;
    if (answer) await reply(deps, item.from, command, sender);
  }
  await repo.recordInbound(deps.db, item.messageId, action, new Date(now));
  return action;
}

/** Applies the command; true when it deserves the confirmation reply. */
async function apply(
  deps: InboundDeps,
  command: InboundCommand,
  phone: string,
  sender: repo.WhatsAppSender,
  at: number,
  evidence: Record<string, unknown>,
): Promise<boolean> {
  if (command === 'stop') {
    await deps.subscriptions.stopWhatsApp(phone, REPLY_SOURCE, at, evidence);
    return true;
  }
  if (command === 'done') {
    await deps.subscriptions.markDone(sender.id, REPLY_SOURCE, at);
    return true;
  }
  const resumed = await deps.subscriptions.resumeWhatsApp(phone, REPLY_SOURCE, at, evidence);
  if (resumed.changed || sender.whatsappState === 'active') return true;
  // No earlier consent to WhatsApp to go back to: START is not a sign-up.
  deps.logger.info({ subscriberId: sender.id }, 'START without an earlier WhatsApp consent: not resumed');
  return false;
}

async function reply(
  deps: InboundDeps,
  waId: string,
  command: InboundCommand,
  sender: repo.WhatsAppSender,
): Promise<void> {
  if (!deps.replier) return;
  const result = await deps.replier.sendText(waId, replyText(command, sender.locale));
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
  const phone = `+${item.waId}`;
  const at = actedAt(item.at, now);
  const sender = await repo.findSubscriberByPhone(deps.db, phone);
  let outcome: string;
  if (!sender) outcome = 'unknown-sender';
  else if (isStale(at, sender)) outcome = 'stale';
  else {
    const evidence = { category: item.category ?? null, value: item.value };
    const result =
      item.value === 'stop'
        ? await deps.subscriptions.stopWhatsApp(phone, PREFERENCE_SOURCE, at, evidence)
        : await deps.subscriptions.resumeWhatsApp(phone, PREFERENCE_SOURCE, at, evidence);
    outcome = result.changed ? item.value : `${item.value}-unchanged`;
  }
  webhookItemsTotal.inc({ kind: 'preference', outcome });
  if (outcome !== item.value) deps.logger.info({ outcome, subscriberId: sender?.id }, 'marketing preference');
  return outcome;
}
