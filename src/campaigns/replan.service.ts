// The tz-data re-plan (docs/timezones.md): a `work` process whose time-zone data is
// newer than the data a pending slot was planned with runs the planning rules again for it,
// before it falls due. Every worker calls `replanStaleSlots` when it starts and once a minute.
//
// - Only pending slots of running campaigns whose fan-out never began are touched; what was sent,
//   is being fanned out or was cancelled stays as it is. A delivery holds no planned instant (it
//   is created when its slot falls due), so there is nothing to re-plan on that side.
// - Bounded transactions: a batch of slots of one campaign, locked FOR UPDATE SKIP LOCKED (a
//   second worker or a tick takes other rows), written with a compare-and-set on the version they
//   were read with. Any number of workers may run this at once; each slot is re-planned once
//   per newer release.
// - Never backwards: only slots planned with an older release (or none recorded) are looked at,
//   so a worker still on old data during a rolling upgrade leaves newer plans alone.
// - The batch's slot changes, its `tz_replans` row and its `campaign.replanned` event commit
//   together (the outbox).

import { recordCampaignEvent } from '../events/outbox.ts';
import { latestSendBefore } from '../planning/planner.ts';
import { type PendingSend, type Replanned, replanZone } from '../planning/replan.ts';
import { partTime } from '../planning/spread.ts';
import { isTzVersion, tzDataVersion, wallTimeText } from '../planning/tz-data.ts';
import type { Logger } from '../shared/logger.ts';
import type { Db } from '../store/pool.ts';
import { findCampaign } from './campaign.repository.ts';
import { toSchedule } from './campaign.schema.ts';
import {
  campaignsToReplan,
  claimStaleSlots,
  type ReplanCounts,
  recordReplan,
  type SlotChange,
  type StaleSlot,
  writeReplanned,
} from './replan.repository.ts';

export interface ReplanDeps {
  readonly db: Db;
  readonly logger: Logger;
  /** This process's tzdata release (default: its ICU's). */
  readonly tzVersion?: string;
  /** Slots per transaction (default 500). */
  readonly batchSize?: number;
}

export interface CampaignReplan extends ReplanCounts {
  readonly campaignId: string;
  /** Slots in zones this data does not know (left as they were). */
  readonly unknownZones: number;
}

const BATCH = 500;

export interface ReplanService {
  /** The tzdata release this service plans with. */
  readonly tzVersion: string;
  /** One pass: every stale pending slot of every running campaign (see replanStaleSlots). */
  replanStale(now: number): Promise<CampaignReplan[]>;
}

/** The re-plan as a service of the process (src/roles/services.ts builds it once). */
export function createReplanService(deps: ReplanDeps): ReplanService {
  const tzVersion = deps.tzVersion ?? tzDataVersion();
  return { tzVersion, replanStale: (now) => replanStaleSlots({ ...deps, tzVersion }, now) };
}

/** Re-plans every stale pending slot of every running campaign; one entry per campaign and
 *  release it came from. Empty when nothing was stale (the usual case: one cheap query). */
export async function replanStaleSlots(deps: ReplanDeps, now: number): Promise<CampaignReplan[]> {
  const version = deps.tzVersion ?? tzDataVersion();
  if (!isTzVersion(version)) {
    deps.logger.warn({ tzVersion: version }, 'tz data release unknown to this process: no re-plan');
    return [];
  }
  const done: CampaignReplan[] = [];
  for (const campaignId of await campaignsToReplan(deps.db, version, now)) {
    const totals = new Map<string | null, CampaignReplan>();
    for (;;) {
      const batch = await deps.db.tx(async (sql) => {
        const record = await findCampaign(sql, campaignId);
        if (record?.state !== 'running' || record.deadline <= now) return [];
        const slots = await claimStaleSlots(sql, campaignId, version, deps.batchSize ?? BATCH);
        if (slots.length === 0) return [];
        const schedule = toSchedule(record.campaign);
        const results = new Map<number, Replanned>();
        for (const inPlace of groupBy(slots, (s) => `${s.zone}\u0000${s.country}`).values()) {
          const { zone, country } = inPlace[0]!;
          for (const r of replanZone(schedule, zone, inPlace.map(pendingSend), now, country))
            results.set(r.id, r);
        }
        const latestBefore = latestSendBefore(schedule);
        const changes = slots.map((slot) =>
          changeOf(slot, inPart(slot, results.get(slot.id)!, latestBefore, now)),
        );
        await writeReplanned(sql, changes, version, now);
        const counts = countBatch(campaignId, version, slots, results);
        for (const c of counts) {
          await recordReplan(sql, campaignId, c, now);
          await recordCampaignEvent(
            sql,
            'campaign.replanned',
            campaignId,
            {
              fromVersion: c.fromVersion,
              toVersion: c.toVersion,
              slots: c.slots,
              moved: c.moved,
              earlier: c.earlier,
              later: c.moved - c.earlier,
              cancelled: c.cancelled,
            },
            now,
          );
        }
        return counts;
      });
      if (batch.length === 0) break;
      for (const c of batch) totals.set(c.fromVersion, add(totals.get(c.fromVersion), c));
    }
    for (const c of totals.values()) {
      deps.logger.info(
        { ...c, later: c.moved - c.earlier },
        `campaign ${campaignId}: ${c.slots} pending sends re-planned from tz data ${c.fromVersion ?? 'unrecorded'} to ${c.toVersion}: ` +
          `${c.moved} moved (${c.earlier} earlier, ${c.moved - c.earlier} later), ${c.cancelled} cancelled`,
      );
      if (c.unknownZones > 0)
        deps.logger.warn(
          { campaignId, slots: c.unknownZones },
          'slots in zones this tz data does not know: left as planned',
        );
      done.push(c);
    }
  }
  return done;
}

/**
 * A part of a spread step (docs/whatsapp.md) moves with its step: to its part's instant before the
 * step's new one, or, when that is no longer ahead, to the step's own instant (sent late in the
 * spread rather than not at all).
 */
function inPart(
  slot: StaleSlot,
  result: Replanned,
  latestBefore: (zone: string, limit: number, country?: string) => number,
  now: number,
): Replanned {
  if (slot.parts < 2 || slot.part === 0 || slot.kind !== 'scheduled' || result.action !== 'move')
    return result;
  const at = partTime(latestBefore, slot.zone, result.sendAt, slot.part, now, slot.country);
  return { ...result, sendAt: at ?? result.sendAt };
}

function pendingSend(slot: StaleSlot): PendingSend {
  return { id: slot.id, step: slot.stepId, channel: slot.channel, plannedAt: slot.plannedAt };
}

function changeOf(slot: StaleSlot, result: Replanned): SlotChange {
  const base = { id: slot.id, fromVersion: slot.tzVersion };
  if (result.action === 'move')
    return {
      ...base,
      sendAt: result.sendAt,
      localTime: wallTimeText(result.sendAt, slot.zone),
      cancel: false,
    };
  if (result.action === 'cancel') return { ...base, sendAt: slot.sendAt, localTime: null, cancel: true };
  return { ...base, sendAt: slot.sendAt, localTime: null, cancel: false };
}

function countBatch(
  campaignId: string,
  version: string,
  slots: readonly StaleSlot[],
  results: ReadonlyMap<number, Replanned>,
): CampaignReplan[] {
  return [...groupBy(slots, (s) => s.tzVersion)].map(([fromVersion, group]) => {
    let moved = 0;
    let earlier = 0;
    let cancelled = 0;
    let unknownZones = 0;
    for (const slot of group) {
      const r = results.get(slot.id)!;
      if (r.action === 'cancel') cancelled++;
      else if (r.action === 'unknown-zone') unknownZones++;
      else if (r.sendAt !== slot.sendAt) {
        moved++;
        if (r.sendAt < slot.sendAt) earlier++;
      }
    }
    return {
      campaignId,
      fromVersion,
      toVersion: version,
      slots: group.length,
      moved,
      earlier,
      cancelled,
      unknownZones,
    };
  });
}

function add(a: CampaignReplan | undefined, b: CampaignReplan): CampaignReplan {
  if (a === undefined) return b;
  return {
    ...a,
    slots: a.slots + b.slots,
    moved: a.moved + b.moved,
    earlier: a.earlier + b.earlier,
    cancelled: a.cancelled + b.cancelled,
    unknownZones: a.unknownZones + b.unknownZones,
  };
}

function groupBy<T, K>(items: readonly T[], key: (item: T) => K): Map<K, T[]> {
  const groups = new Map<K, T[]>();
  for (const item of items) {
    const k = key(item);
    const group = groups.get(k);
    if (group) group.push(item);
    else groups.set(k, [item]);
  }
  return groups;
}
