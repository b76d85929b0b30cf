// What an imported row does to each channel's consent. Pure: the import service reads the
// current states, asks this, and writes the answer in two set-based statements.
//
// Listed channel:   absent or pending → active (import event)
//                   active            → active; a new import event (and consent_at) only if
//                                       the evidence is new or the address changed
//                   unsubscribed / stopped / complained → active only with evidence newer than
//                                       the opt-out (or the complaint)
//                   bounced           → the same, or at once when the address changed: a bounce
//                                       is about the old address
// Unlisted channel: untouched, unless its address changed or went away while active or
//                   pending: consent belongs to an address, so it ends (opt_out event).
import { basename } from 'node:path';
import { CHANNELS, type Channel } from '../planning/types.ts';
import type { ChannelConsent, ChannelWrite, EventWrite, ExistingSubscriber } from './import.repository.ts';
import { evidenceKey } from './import.repository.ts';
import type { SubscriberInput } from './subscriber.schema.ts';

export interface ChannelDecisions {
  readonly writes: ChannelWrite[];
  readonly events: EventWrite[];
  readonly optOutsKept: number;
  /** Subscribers with any channel or evidence change. */
  readonly changed: Set<string>;
  /** Subscribers who gained an active channel (to plan into running campaigns). */
  readonly activated: Set<string>;
}

const addressOf = (s: { phone?: string | null; email?: string | null }, channel: Channel): string | null =>
  (channel === 'whatsapp' ? s.phone : s.email) ?? null;

export function decideChannels(
  rows: readonly { readonly line: number; readonly value: SubscriberInput }[],
  before: ReadonlyMap<string, ExistingSubscriber>,
  current: readonly ChannelConsent[],
  recorded: ReadonlySet<string>,
  ctx: { readonly now: number; readonly file: string },
): ChannelDecisions {
  const states = new Map(current.map((c) => [`${c.subscriberId}\u0000${c.channel}`, c]));
  const out: ChannelDecisions = {
    writes: [],
    events: [],
    optOutsKept: 0,
    changed: new Set(),
    activated: new Set(),
  };
  let optOutsKept = 0;
  for (const { line, value } of rows) {
    const previous = before.get(value.id);
    for (const channel of CHANNELS) {
      const address = addressOf(value, channel);
      const addressChanged = previous !== undefined && addressOf(previous, channel) !== address;
      const now = states.get(`${value.id}\u0000${channel}`);
      if (!value.channels.includes(channel)) {
        if (addressChanged && (now?.state === 'active' || now?.state === 'pending')) {
          out.writes.push({
            subscriberId: value.id,
            channel,
            state: 'unsubscribed',
            consentAt: now.consentAt?.getTime() ?? null,
          });
          out.events.push({
            subscriberId: value.id,
            channel,
            kind: 'opt_out',
            source: 'import',
            evidence: { reason: 'address-changed', previousState: now.state, file: basename(ctx.file), line },
            occurredAt: ctx.now,
          });
          out.changed.add(value.id);
        }
        continue;
      }
      const known = recorded.has(
        evidenceKey(value.id, channel, value.consentSource, value.consentAt, address),
      );
      const state = now?.state;
      if (
        state === 'unsubscribed' ||
        state === 'stopped' ||
        state === 'complained' ||
        (state === 'bounced' && !addressChanged)
      ) {
        const optOut = now?.lastOptOut?.getTime();
        if (optOut !== undefined && value.consentAt <= optOut) {
          optOutsKept++;
          continue;
        }
      } else if (state === 'active' && known && !addressChanged) {
        continue; // this evidence is on record already: nothing new
      }
      out.writes.push({ subscriberId: value.id, channel, state: 'active', consentAt: value.consentAt });
      out.events.push({
        subscriberId: value.id,
        channel,
        kind: 'import',
        source: value.consentSource,
        evidence: {
          address,
          consentAt: new Date(value.consentAt).toISOString(),
          ...(state === undefined ? {} : { previousState: state }),
          file: basename(ctx.file),
          line,
        },
        occurredAt: value.consentAt,
      });
      out.changed.add(value.id);
      if (state !== 'active') out.activated.add(value.id);
    }
  }
  return { ...out, optOutsKept };
}
