// Planned sends → slot rows. Pure: the planner decides every instant (docs/campaigns.md,
// "Planning"); this module only says which of its sends become a zone-wide slot and which a
// personal one.
//
// - Starting a campaign plans every existing subscriber as joining at that instant
//   (docs/campaigns.md, "Late joiners and catch-up"), and every subscriber of a zone shares that
//   plan: each send, catch-ups included, is a zone slot (subscriber_id null).
// - A subscriber who joins later shares the zone's scheduled sends (created if the zone had no
//   one yet) but gets their catch-up alone: a zone-wide catch-up would reach the whole zone.
import { createZonePlanner } from '../planning/planner.ts';
import { partOf, type SpreadPlan, type SpreadSend } from '../planning/spread.ts';
import type { PlannedSend } from '../planning/types.ts';
import { tzDataVersion, wallTimeText } from '../planning/tz-data.ts';
import type { Channel } from '../shared/vocabulary.ts';
import { inAudience } from './audience.ts';
import { type Campaign, toSchedule } from './campaign.schema.ts';
import { holidayCountry } from './holiday-country.ts';
import type { Audience, NewSlot, ZoneChannel } from './slot.repository.ts';

/** The sends of a zone, for the subscribers of a holiday country ('' or absent: none). */
export type ZonePlanner = (zone: string, country?: string) => readonly PlannedSend[];

export function zonePlanner(campaign: Campaign, now: number): ZonePlanner {
  return createZonePlanner(toSchedule(campaign), now);
}

/** Channels the campaign's steps use, each once, in step order. */
export function campaignChannels(campaign: Campaign): Channel[] {
  return [...new Set(campaign.steps.flatMap((s) => s.channels))];
}

/** Who the campaign reaches and how its slots are split: channels, audience, holidays. */
export function audienceOf(campaign: Campaign): Audience {
  return {
    channels: campaignChannels(campaign),
    ...campaign.audience,
    ...(campaign.window.holidays ? { holidays: campaign.window.holidays } : {}),
  };
}

export interface BuiltSlots {
  readonly slots: NewSlot[];
  /** Zones the planner refused (unknown to this runtime's time-zone data): nobody there is planned. */
  readonly badZones: string[];
}

/**
 * The slots of a campaign starting at `now`, for the zones (and, with holidays, countries) and
 * channels that have subscribers.
 */
export function startSlots(
  campaign: Campaign,
  zoneChannels: readonly ZoneChannel[],
  now: number,
): BuiltSlots {
  const planner = zonePlanner(campaign, now);
  const places = new Map<string, { zone: string; country: string; counts: Map<Channel, number> }>();
  for (const { zone, country, channel, subscribers } of zoneChannels) {
    const key = `${zone}\u0000${country}`;
    const place = places.get(key) ?? { zone, country, counts: new Map<Channel, number>() };
    place.counts.set(channel, Number(subscribers));
    places.set(key, place);
  }
  const slots: NewSlot[] = [];
  const badZones = new Set<string>();
  for (const { zone, country, counts } of places.values()) {
    const sends = planSafely(planner, zone, country);
    if (sends === undefined) {
      badZones.add(zone);
      continue;
    }
    for (const send of sends) {
      const audience = counts.get(send.channel);
      if (audience !== undefined) slots.push({ ...slotOf(campaign.id, zone, country, send, null), audience });
    }
  }
  return { slots, badZones: [...badZones] };
}

export interface Joiner {
  readonly id: string;
  readonly zone: string;
  /** Channels with active consent. */
  readonly channels: readonly Channel[];
  readonly tags: readonly string[];
  readonly attributes: Readonly<Record<string, string>>;
  /** The phone's region ('' or null without one), for holidays by the phone's country. */
  readonly phoneRegion?: string | null;
}

/**
 * The slots a subscriber joining a running campaign at the planner's `now` needs: the zone's
 * scheduled slots still ahead (shared; inserting an existing one is a no-op) and a personal
 * catch-up when the catch-up rule calls for one. Undefined when the zone is unknown to the planner.
 */
export function joinerSlots(campaign: Campaign, planner: ZonePlanner, joiner: Joiner): NewSlot[] | undefined {
  if (!inAudience(campaign, joiner)) return [];
  const country = holidayCountry(campaign.window.holidays, joiner);
  const sends = planSafely(planner, joiner.zone, country);
  if (sends === undefined) return undefined;
  return sends
    .filter((send) => joiner.channels.includes(send.channel))
    .map((send) =>
      slotOf(campaign.id, joiner.zone, country, send, send.kind === 'catch-up' ? joiner.id : null),
    );
}

/**
 * A spread plan (planning/spread.ts) applied to start slots: each zone slot of a spread step on
 * WhatsApp becomes one slot per part, at its part's time, its audience the people of that part
 * in its zone (and holiday country) (exact, from `sends`, the WhatsApp sends the plan was made from). Other slots are kept.
 */
export function spreadSlots(
  slots: readonly NewSlot[],
  plan: SpreadPlan,
  sends: readonly SpreadSend[],
): NewSlot[] {
  const people = new Map<string, number>();
  const key = (step: string, zone: string, country: string, part: number) =>
    `${step}\u0000${zone}\u0000${country}\u0000${part}`;
  for (const send of sends) {
    const parts = plan.parts.get(send.step) ?? 1;
    if (parts < 2 || send.kind !== 'scheduled') continue;
    const k = key(send.step, send.zone, send.country ?? '', partOf(send.person, parts));
    people.set(k, (people.get(k) ?? 0) + 1);
  }
  return slots.flatMap((slot) => {
    const parts = plan.parts.get(slot.stepId) ?? 1;
    if (parts < 2 || slot.channel !== 'whatsapp' || slot.kind !== 'scheduled' || slot.subscriberId !== null)
      return [slot];
    const country = slot.country ?? '';
    return plan.partTimes(slot.zone, slot.sendAt, parts, country).map((sendAt, part) => ({
      ...slot,
      sendAt,
      ...plannedWith(slot.zone, sendAt),
      part,
      parts,
      audience: people.get(key(slot.stepId, slot.zone, country, part)) ?? 0,
    }));
  });
}

/** What a slot planned in `zone` for `sendAt` by this process keeps beside its instant. */
export function plannedWith(zone: string, sendAt: number): { localTime: string; tzVersion: string } {
  return { localTime: wallTimeText(sendAt, zone), tzVersion: tzDataVersion() };
}

function slotOf(
  campaignId: string,
  zone: string,
  country: string,
  send: PlannedSend,
  subscriberId: string | null,
): NewSlot {
  return {
    campaignId,
    stepId: send.step,
    zone,
    country,
    channel: send.channel,
    sendAt: send.sendAt,
    kind: send.kind,
    subscriberId,
    ...plannedWith(zone, send.sendAt),
  };
}

function planSafely(planner: ZonePlanner, zone: string, country = ''): readonly PlannedSend[] | undefined {
  try {
    return planner(zone, country);
  } catch (error) {
    if (error instanceof RangeError) return undefined;
    throw error;
  }
}
