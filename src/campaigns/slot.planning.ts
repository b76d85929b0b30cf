// Planning subscribers who join campaigns already under way (docs/campaigns.md, "Late joiners and
// catch-up"): a web sign-up, an email confirmation, a WhatsApp START, or an import while a campaign
// runs. Batched, so the importer plans 500 rows with a handful of statements; idempotent, so
// planning someone twice inserts nothing new (slot identity) and sends nothing twice (delivery
// identity).
//
// Personal catch-up slots cost one row (and, when due, one tiny fan-out) per subscriber and
// channel that missed a step. That is the price of joining late; a large list is best imported
// before `campaign start`, which plans everyone in zone slots.

import { partOf } from '../planning/spread.ts';
import type { Channel } from '../shared/vocabulary.ts';
import type { Sql } from '../store/pool.ts';
import { plannableCampaigns } from './campaign.repository.ts';
import { type Joiner, joinerSlots, zonePlanner } from './slot.builder.ts';
import { insertSlots, type NewSlot, type PartSlot, partSlots } from './slot.repository.ts';

export interface PlanJoinersResult {
  /** Subscribers some campaign planned: in its audience, with a step ahead on one of their channels. */
  readonly subscribers: number;
  /** Slots created (zone slots that were missing, personal catch-ups). */
  readonly slotsCreated: number;
  /** Subscribers whose zone the planner does not know (not planned). */
  readonly unplannable: number;
}

const CHUNK = 5_000;

/** A zone slot's identity (subscriber aside: a zone slot has none). */
const keyOf = (s: NewSlot) =>
  `${s.campaignId}\u0000${s.stepId}\u0000${s.zone}\u0000${s.country ?? ''}\u0000${s.channel}\u0000${s.kind}`;

/** Plans the given subscribers, as joining at `now`, into every running or paused campaign. */
export async function planSubscribers(
  sql: Sql,
  subscriberIds: readonly string[],
  now: number,
): Promise<PlanJoinersResult> {
  const empty = { subscribers: 0, slotsCreated: 0, unplannable: 0 };
  if (subscriberIds.length === 0) return empty;
  const campaigns = await plannableCampaigns(sql, now);
  if (campaigns.length === 0) return empty;
  const planners = campaigns.map((c) => ({ campaign: c.campaign, planner: zonePlanner(c.campaign, now) }));
  const spread = partsByZoneStep(
    await partSlots(
      sql,
      campaigns.filter((c) => c.campaign.messagingLimit?.spread).map((c) => c.id),
      now,
    ),
  );

  // Counted: joiners some campaign planned (in its audience, with a step still ahead on one of
  // their channels), not every joiner looked at.
  const planned = new Set<string>();
  let slotsCreated = 0;
  let unplannable = 0;
  for (let i = 0; i < subscriberIds.length; i += CHUNK) {
    const joiners = await loadJoiners(sql, subscriberIds.slice(i, i + CHUNK));
    const slots: NewSlot[] = [];
    // A zone slot a joiner needs, with how many of this batch's joiners it is planned for (its
    // audience when it is new; an existing slot keeps its own).
    const zoneSlotKeys = new Map<string, number>();
    const bad = new Set<string>();
    for (const { campaign, planner } of planners) {
      for (const joiner of joiners) {
        const built = joinerSlots(campaign, planner, joiner);
        if (built === undefined) {
          bad.add(joiner.id);
          continue;
        }
        if (built.length > 0) planned.add(joiner.id);
        for (const slot of [...built, ...lateForPart(spread, built, joiner.id)]) {
          // Zone slots are shared: keep one per identity, however many joiners need it.
          if (slot.subscriberId === null) {
            const key = keyOf(slot);
            const seen = zoneSlotKeys.get(key);
            zoneSlotKeys.set(key, (seen ?? 0) + 1);
            if (seen !== undefined) continue;
          }
          slots.push(slot);
        }
      }
    }
    unplannable += bad.size;
    slotsCreated += await insertSlots(
      sql,
      slots.map((s) => (s.subscriberId === null ? { ...s, audience: zoneSlotKeys.get(keyOf(s)) ?? 0 } : s)),
      now,
    );
  }
  return { subscribers: planned.size, slotsCreated, unplannable };
}

async function loadJoiners(sql: Sql, ids: readonly string[]): Promise<Joiner[]> {
  const rows = await sql.query<{
    id: string;
    zone: string;
    tags: string[];
    attributes: Record<string, string>;
    phoneRegion: string | null;
    channels: Channel[];
  }>(
    `SELECT s.id, s.timezone AS zone, s.tags, s.attributes, s.phone_region AS "phoneRegion",
            array_agg(c.channel ORDER BY c.channel) AS channels
       FROM subscribers s JOIN subscriber_channels c ON c.subscriber_id = s.id
      WHERE s.id = ANY($1::text[]) AND c.state = 'active' AND s.done_at IS NULL
      GROUP BY s.id`,
    [ids],
  );
  return rows;
}

/** Part slots by campaign, step, zone and holiday country, in part order. */
function partsByZoneStep(slots: readonly PartSlot[]): Map<string, PartSlot[]> {
  const byKey = new Map<string, PartSlot[]>();
  for (const slot of slots) {
    const key = `${slot.campaignId}\u0000${slot.stepId}\u0000${slot.zone}\u0000${slot.country}`;
    byKey.set(
      key,
      [...(byKey.get(key) ?? []), slot].sort((a, b) => a.part - b.part),
    );
  }
  return byKey;
}

/**
 * A joiner of a spread step whose part has already gone out (docs/whatsapp.md, "Spreading a step
 * over earlier days") is sent the step alone, at the step's own time: a personal slot. When their
 * part is still ahead, the zone's part slot takes them and nothing is added.
 */
function lateForPart(
  spread: Map<string, PartSlot[]>,
  built: readonly NewSlot[],
  joinerId: string,
): NewSlot[] {
  if (spread.size === 0) return [];
  return built.flatMap((slot) => {
    if (slot.subscriberId !== null || slot.kind !== 'scheduled' || slot.channel !== 'whatsapp') return [];
    const parts = spread.get(
      `${slot.campaignId}\u0000${slot.stepId}\u0000${slot.zone}\u0000${slot.country ?? ''}`,
    );
    if (!parts) return [];
    const mine = parts.find((p) => p.part === partOf(joinerId, p.parts));
    return mine?.ahead ? [] : [{ ...slot, kind: 'catch-up' as const, subscriberId: joinerId }];
  });
}
